"""Render speed of a style-DDSP instrument per voice, float32, against FluidSynth on the same notes in the same run.

Target (issue 17, B): a 60-s monophonic voice renders at >= 100x real time in float32 on 2 cores (decoder and
dry synth, the whole `Renderer.render`). Also times one 60-s part of 4-note chords (4 voices).

Usage: .venv/bin/python bench/bench_style_ddsp.py [--bundle guitar] [--sample-rate 48000] [--threads 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_render import melody  # noqa: E402


def chords(seconds: float, seed: int):
    from readdsp.core.performance import Note, Part

    rng = np.random.default_rng(seed)
    notes, t = [], 0.0
    while t < seconds:
        root = int(rng.integers(40, 60))
        for step in (0, 7, 12, 16):
            notes.append(Note(root + step, t, min(t + 0.9, seconds), int(rng.integers(50, 120))))
        t += 1.0
    return Part("chords", 25, notes=notes, cc={55: [(0.0, 0), (seconds / 2, 127)]})


def timed(renderer, part, sample_rate: int, repeats: int) -> float:
    from readdsp.core.performance import Performance

    perf = Performance([part])
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        renderer.render(perf, sample_rate, instrument="guitar", seed=0)
        best = min(best, time.perf_counter() - began)
    return best


def fluidsynth_seconds(part, sample_rate: int) -> float:
    from readdsp.core.midi_io import write_midi
    from readdsp.core.performance import Performance
    from readdsp.datasets.fluidsynth import render_midi, resolve_soundfont

    with tempfile.TemporaryDirectory() as tmp:
        path = write_midi(Performance([part]), Path(tmp) / "part.mid")
        began = time.perf_counter()
        render_midi(path, resolve_soundfont("fluidr3"), sample_rate, part.end_time)
        return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default="guitar")
    parser.add_argument("--sample-rate", type=int, default=48000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ["READDSP_PRECISION"] = "float32"
    import torch

    from readdsp.core.render import Renderer

    torch.set_num_threads(args.threads)
    renderer = Renderer.load(args.bundle)
    line = melody(60.0, 25, 40, 76, 0, "line")
    block = chords(60.0, 1)
    timed(renderer, melody(5.0, 25, 40, 76, 1, "warm-up"), args.sample_rate, 1)
    mono_s = timed(renderer, line, args.sample_rate, args.repeats)
    chord_s = timed(renderer, block, args.sample_rate, args.repeats)
    fluid_s = fluidsynth_seconds(line, args.sample_rate)
    report = {
        "bundle": args.bundle,
        "threads": args.threads,
        "sample_rate": args.sample_rate,
        "precision": "float32",
        "mono_60s_seconds": round(mono_s, 3),
        "mono_x_real_time": round(60.0 / mono_s, 1),
        "chords_4_voices_60s_seconds": round(chord_s, 3),
        "chords_x_real_time_per_voice": round(4 * 60.0 / chord_s, 1),
        "fluidsynth_mono_60s_seconds": round(fluid_s, 3),
        "ratio_to_fluidsynth": round(mono_s / fluid_s, 2),
        "target_mono_x_real_time": 100,
        "meets_target": 60.0 / mono_s >= 100,
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
