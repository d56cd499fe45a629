"""Inference speed of every effect model kind, in x real time at 48 kHz on one core, against NAM's feather
WaveNet (the anchor, run in the same process on the same audio).

Usage: python bench/bench_effects_speed.py [--seconds 10] [--block 4096]
Each model processes `seconds` of noise in blocks of `block` samples (as a plugin would), state carried
between blocks. Issue 19's target: every kind at least 50x real time. Model sizes are the ones training
writes by default (FIR as long as a 1.5 s tail, shaper/W-H FIR 0.1 s, 64-harmonic modulation LFOs).
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from readdsp.core.effects.base import EffectModel  # noqa: E402
from readdsp.core.effects.chorus_dsp import ChorusParams, JuceChorusModel  # noqa: E402
from readdsp.core.effects.compressor import CompressorModel, CompressorParams  # noqa: E402
from readdsp.core.effects.fir import FirModel  # noqa: E402
from readdsp.core.effects.gate import GateModel, GateParams  # noqa: E402
from readdsp.core.effects.lfo import Lfo  # noqa: E402
from readdsp.core.effects.modulation import ModulatedDelayModel  # noqa: E402
from readdsp.core.effects.phaser import PhaserModel  # noqa: E402
from readdsp.core.effects.shaper import ShaperModel  # noqa: E402
from readdsp.core.effects.tremolo import TremoloModel  # noqa: E402
from readdsp.core.effects.wiener_hammerstein import WienerHammersteinModel  # noqa: E402

SR = 48000


def models(rng: np.random.Generator) -> list[EffectModel]:
    """One model of every kind at its default trained size (weights random: speed does not depend on them)."""
    knots = np.linspace(-1, 1, 129)
    lfo = np.concatenate([[20.0], 0.1 * rng.standard_normal(128)])
    return [
        FirModel(SR, 0.01 * rng.standard_normal(int(1.5 * SR))),
        ShaperModel(SR, knots, np.tanh(3 * knots), 0.01 * rng.standard_normal(int(0.1 * SR))),
        WienerHammersteinModel(
            SR,
            0.1 * rng.standard_normal(int(0.02 * SR)),
            knots,
            np.tanh(2 * knots),
            0.01 * rng.standard_normal(int(0.1 * SR)),
        ),  # fmt: skip
        JuceChorusModel(SR, ChorusParams(1.1, -np.pi, 0.007 * SR, 0.002 * SR, 0.001 * SR, 0.2, 0.7, 0.5)),
        ModulatedDelayModel(SR, Lfo(0.7, lfo, SR), 0.4, 0.6, 0.5),
        PhaserModel(SR, Lfo(0.5, np.concatenate([[10.0], 0.1 * rng.standard_normal(12)]), SR), 12, 0.3, 0.5, 0.5),
        TremoloModel(SR, Lfo(4.0, np.concatenate([[0.7], 0.05 * rng.standard_normal(16)]), SR)),
        CompressorModel(SR, CompressorParams(5.0, -24.0, 4.0, 6.0, 3.0, 80.0, 4.0)),
        GateModel(SR, GateParams(0.1, 20.0, -12.0, 6.0, 50.0, 2.0, 60.0, 1.0, 20.0, 80.0, 0.0)),
    ]


def nam_feather() -> torch.nn.Module:
    """NAM's feather WaveNet (our `--model nam` config), untrained."""
    from nam.models.wavenet import WaveNet

    from readdsp.training.effects.nam_train import nam_model_config

    config = nam_model_config("wavenet")["net"]["config"]
    net = WaveNet.init_from_config(config)
    net.eval()
    return net


def realtime_factor(process, audio: np.ndarray, block: int) -> float:  # noqa: ANN001
    """Audio seconds per wall second, processing in blocks (one warm-up block first: numba compiles)."""
    process(audio[:block])
    start = time.perf_counter()
    for i in range(0, len(audio), block):
        process(audio[i : i + block])
    return len(audio) / SR / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--block", type=int, default=4096)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    audio = (0.3 * rng.standard_normal(int(args.seconds * SR))).astype(np.float32)
    audio *= np.resize(np.repeat([1.0, 0.05], SR // 4), len(audio))  # loud and quiet stretches: the gate works
    net = nam_feather()
    receptive = int(net.receptive_field)
    history = np.zeros(receptive - 1, np.float32)

    def nam_block(block: np.ndarray) -> None:
        nonlocal history
        joined = np.concatenate([history, block])
        with torch.no_grad():
            net(torch.from_numpy(joined), pad_start=False)
        history = joined[len(joined) - (receptive - 1) :]

    anchor = realtime_factor(nam_block, audio, args.block)
    print(f"anchor NAM feather WaveNet: {anchor:.0f}x real time (48 kHz, 1 thread, blocks of {args.block})")
    for model in models(rng):
        speed = realtime_factor(lambda b, m=model: m.process(b, SR), audio, args.block)
        verdict = "ok" if speed >= 50 else "BELOW 50x"
        print(f"{model.kind:20s} {speed:8.0f}x real time  ({speed / anchor:.2f}x NAM)  {verdict}", flush=True)


if __name__ == "__main__":
    main()
