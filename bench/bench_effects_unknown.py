"""Captures of effects the models were not built for (bench/reference_effects.py: numpy/scipy/numba, not
pedalboard), 1 minute of data each: our fit beside NAM's trainer at the same time budget, held-out test ESR.

Usage: python bench/bench_effects_unknown.py [--effects chorus,flanger,phaser,compressor,gate,overdrive,echo]
       [--budget 300] [--model auto|per-effect|FAMILY] [--nam] [--minutes 1]
Issue 19's targets: chorus, flanger, phaser <= 0.05; compressor, gate <= 0.02; overdrive, echo (static curve,
LTI) <= 0.01. The gate's material is half real guitar notes (decays into quiet: ../shared/data/guitar-notes, or
READDSP_SHARED_DATA/guitar-notes), half the builder's seeded signals.
The dry and identity baselines are printed beside each score (a model must beat them to count).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core, as the budget says (BLAS threads fight on a busy machine)

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference_effects import EFFECTS, TARGETS, ReferenceBackend  # noqa: E402

from readdsp.datasets.effects.builder import build_dataset  # noqa: E402
from readdsp.training.effects.train import baseline_esr, train_model  # noqa: E402

#: Our family per effect when --model per-effect (what `auto` should pick; cheaper than trying them all).
PER_EFFECT = {"chorus": "modulation", "flanger": "modulation", "vibrato": "modulation", "phaser": "phaser",
              "tremolo": "tremolo", "compressor": "compressor", "gate": "gate", "overdrive": "wiener-hammerstein",
              "echo": "fir"}  # fmt: skip


#: Silence after each split, long enough for the effect's tail (the FIR's length follows it).
TAIL_SECONDS = {"echo": 1.5}
#: The project's shared data folder (see its README); READDSP_SHARED_DATA names another place.
SHARED_DATA = Path(os.environ.get("READDSP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
#: Real recordings mixed into an effect's material (the builder's --audio-folder): a gate needs notes that
#: decay into quiet, as real guitar notes do.
MATERIAL = {"gate": SHARED_DATA / "guitar-notes"}
#: Capture level (the builder's --level): the gate's guitar notes peak at -23 dBFS, as a DI track might.
LEVEL_DB = {"gate": -20.0}


def capture(name: str, folder: Path, minutes: float) -> Path:
    """A 1-minute dataset of one reference effect through the ordinary dataset builder."""
    spec = folder / f"{name}.json"
    # the builder wants a chain spec; the reference backend ignores its chain
    spec.write_text(json.dumps({"name": f"reference-{name}", "tail_seconds": TAIL_SECONDS.get(name, 0.5),
                                "chain": [{"type": "gain", "gain_db": 0}]}))  # fmt: skip
    material = MATERIAL.get(name)
    if material is not None and not material.is_dir():
        raise SystemExit(f"{name} needs real recordings in {material} (set READDSP_SHARED_DATA)")
    return build_dataset(spec, folder / name, minutes=minutes, backend=ReferenceBackend(name), audio_folder=material,
                         level_db=LEVEL_DB.get(name, 0.0), progress=False)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--effects", default="chorus,flanger,phaser,compressor,overdrive,echo")
    parser.add_argument("--budget", type=float, default=300.0, help="fit seconds per model (issue: at most 300)")
    parser.add_argument("--model", default="per-effect", help="auto, per-effect, or one family for all")
    parser.add_argument("--nam", action="store_true", help="also NAM's trainer (WaveNet feather), same budget")
    parser.add_argument("--minutes", type=float, default=1.0)
    args = parser.parse_args()
    print("effect      model               test ESR   val ESR    dry/identity val   target   seconds")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.effects.split(","):
            if name not in EFFECTS:
                raise SystemExit(f"unknown effect {name!r} (known: {', '.join(EFFECTS)})")
            ds = capture(name, Path(tmp), args.minutes)
            base = baseline_esr(ds, "val")
            ours = PER_EFFECT[name] if args.model == "per-effect" else args.model
            runs = [(ours, "m.safetensors")] + ([("nam", "m.nam")] if args.nam else [])
            for model, file in runs:
                log = (lambda m: print(f"    {m}", flush=True)) if model == "auto" else (lambda _m: None)
                r = train_model(ds, model, Path(tmp) / f"{name}_{file}", max_seconds=args.budget, log=log)
                label = r["model"] if model != "auto" else f"auto->{r['model']}"
                print(f"{name:11s} {label:19s} {r['test_esr']:.2e}   {r['val_esr']:.2e}   "
                      f"{base['dry']:.2e}/{base['identity']:.2e}   {TARGETS.get(name, float('nan')):<8g} "
                      f"{r['seconds']:.0f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
