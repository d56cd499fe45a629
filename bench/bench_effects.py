"""Effects bench: builtin-backend throughput and held-out ESR per example effect, ours beside NAM's trainer.

Usage: python bench/bench_effects.py [--minutes 10] [--train-minutes 3] [--budget 540] [--nam] [--nam-lstm]
       [--effects delay,reverb,chorus,distortion,fuzz] [--our-model M]
Our model per effect: FIR (LTI), waveshaper+FIR (distortion, fuzz), pre-FIR+waveshaper+FIR (drive->cab),
JUCE-structure grey box (chorus); --our-model overrides it for every effect.
With --nam / --nam-lstm, NAM's own trainer runs on the same dataset with the same time budget.
Targets (issue 3): 1 h of pairs in <= 60 s; ESR delay <= 0.02, reverb/chorus <= 0.1,
distortion/fuzz <= 0.01, drive->cab <= 0.03.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from readdsp.datasets.effects.builder import build_dataset
from readdsp.training.effects.train import train_model

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "effects"
TARGETS = {
    "delay": 0.02,
    "reverb": 0.1,
    "freeverb": 0.1,
    "chorus": 0.1,
    "distortion": 0.01,
    "fuzz": 0.01,
    "drive_cab": 0.03,
}
OUR_MODEL = {
    "chorus": "chorus",
    "distortion": "shaper",
    "fuzz": "shaper",
    "drive_cab": "wiener-hammerstein",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0, help="audio for the throughput run (0: skip)")
    parser.add_argument("--train-minutes", type=float, default=3.0)
    parser.add_argument("--budget", type=float, default=540.0, help="training seconds per model")
    parser.add_argument("--nam", action="store_true", help="also train NAM WaveNet (feather) on the same data")
    parser.add_argument("--nam-lstm", action="store_true", help="also train NAM LSTM (1x16) on the same data")
    parser.add_argument("--effects", default="delay,reverb,chorus,distortion,fuzz")
    parser.add_argument("--our-model", default=None, help="our model for every effect (default: per effect)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.minutes > 0:
            start = time.monotonic()
            build_dataset(EXAMPLES / "distortion.json", Path(tmp) / "tp", minutes=args.minutes, progress=False)
            seconds = time.monotonic() - start
            speed = 60 * args.minutes / seconds
            hour = seconds * 60 / args.minutes
            print(f"throughput: {args.minutes:g} min in {seconds:.1f} s ({speed:.0f}x), 1 h ~ {hour:.0f} s")
        for name in args.effects.split(","):
            ds = build_dataset(EXAMPLES / f"{name}.json", Path(tmp) / name, minutes=args.train_minutes, progress=False)
            models = [(args.our_model or OUR_MODEL.get(name, "fir"), "m.safetensors")]
            models += [("nam", "m.nam")] if args.nam else []
            models += [("nam-lstm", "lstm.nam")] if args.nam_lstm else []
            for kind, file in models:
                r = train_model(ds, kind, Path(tmp) / f"{name}_{file}", max_seconds=args.budget)
                target = TARGETS.get(name, float("nan"))
                print(f"{name:10s} {kind:8s} test ESR {r['test_esr']:.2e} (val {r['val_esr']:.2e}, "
                      f"target {target:g}) in {r['seconds']:.0f} s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
