"""Render speed and memory of the full MIDI-DDSP hierarchy, against FluidSynth (FluidR3_GM) in the same run.

Targets (MIDI-DDSP issue, section K):
  * 60-s monophonic part, full hierarchy, 2 cores: >= 100x real time;
  * the same multi-part MIDI: our time <= 3x FluidSynth's time at the same sample rate;
  * a 10-minute, 4-part piece renders with peak memory <= 1.5 GB.

Large matrix products run in bfloat16 where the CPU has native bfloat16 (AMX/AVX512-BF16), else float32; the run
prints which, and also times the 60-s part in float32 and reports how far its audio is from the bfloat16 render.

Usage: .venv/bin/python bench/bench_render.py [--bundle NAME] [--sample-rate 48000] [--threads N] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def melody(seconds: float, program: int, low: int, high: int, seed: int, name: str):
    from readdsp.core.performance import Note, Part

    rng = np.random.default_rng(seed)
    notes, t, pitch = [], 0.0, (low + high) // 2
    while t < seconds:
        length = float(rng.choice([0.25, 0.5, 0.5, 0.75, 1.0, 1.5]))
        pitch = int(np.clip(pitch + rng.integers(-4, 5), low, high))
        gap = float(rng.choice([0.0, 0.0, 0.0, 0.1, 0.5]))
        notes.append(Note(pitch, t, min(t + length * 0.95, seconds), int(rng.integers(50, 120))))
        t += length + gap
    return Part(name, program, notes=notes)


def quartet(seconds: float, seed: int = 0):
    from readdsp.core.performance import Performance

    return Performance(
        [
            melody(seconds, 40, 67, 88, seed, "Violin"),
            melody(seconds, 73, 72, 91, seed + 1, "Flute"),
            melody(seconds, 71, 55, 76, seed + 2, "Clarinet"),
            melody(seconds, 42, 36, 55, seed + 3, "Cello"),
        ]
    )


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def fluidsynth_seconds(midi: Path, sample_rate: int, repeats: int) -> float:
    from readdsp.datasets.fluidsynth import fluidsynth_binary, resolve_soundfont

    sf2 = resolve_soundfont("fluidr3")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            fluidsynth_binary(),
            "-ni",
            "-q",
            "-R",
            "0",
            "-C",
            "0",
            "-r",
            str(sample_rate),
            "-F",
            f"{tmp}/o.wav",
            str(sf2),
            str(midi),
        ]
        return best_of(lambda: subprocess.run(cmd, check=True, capture_output=True), repeats)


def memory_child(bundle: str | None, sample_rate: int, threads: int) -> None:
    """Run in a subprocess: render a 10-minute quartet and print the peak RSS."""
    import torch

    from readdsp.core.render import Renderer

    torch.set_num_threads(threads)
    result = Renderer.load(bundle).render(quartet(600.0, seed=5), sample_rate=sample_rate)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": len(result.mix) / sample_rate, "peak_mb": peak_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle")
    parser.add_argument("--sample-rate", type=int, default=48000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.bundle, args.sample_rate, args.threads)
        return

    import numba
    import torch

    from readdsp.core.midi_io import write_midi
    from readdsp.core.models.precision import PRECISION_ENV, inference_dtype
    from readdsp.core.performance import Performance
    from readdsp.core.render import Renderer
    from readdsp.training.real_excerpts import mel_distance

    torch.set_num_threads(args.threads)
    numba.set_num_threads(args.threads)
    renderer = Renderer.load(args.bundle)
    sr = args.sample_rate
    precision = str(inference_dtype()).removeprefix("torch.")
    print(f"{args.threads} thread(s); large products in {precision}")
    mono = Performance([melody(60.0, 40, 60, 84, 1, "Violin")])
    renderer.render(mono, sample_rate=sr)  # warm-up: numba compile, allocator
    mono_s = best_of(lambda: renderer.render(mono, sample_rate=sr, seed=1), args.repeats)
    print(
        f"60-s monophonic part, full hierarchy: {mono_s:.3f} s = {60.0 / mono_s:.0f}x real time "
        f"(target >= 100x: ratio {60.0 / mono_s / 100:.2f})"
    )
    if precision != "float32":
        fast = renderer.render(mono, sample_rate=sr, seed=1).mix
        os.environ[PRECISION_ENV] = "float32"
        exact_s = best_of(lambda: renderer.render(mono, sample_rate=sr, seed=1), args.repeats)
        exact = renderer.render(mono, sample_rate=sr, seed=1).mix
        other_seed = renderer.render(mono, sample_rate=sr, seed=2).mix
        del os.environ[PRECISION_ENV]
        print(
            f"  same part in float32: {exact_s:.3f} s = {60.0 / exact_s:.0f}x real time; log-mel distance "
            f"{precision} vs float32 {mel_distance(exact, fast, sr):.2f} dB "
            f"(yardstick: float32 seed 1 vs seed 2 {mel_distance(exact, other_seed, sr):.2f} dB)"
        )

    piece = quartet(60.0)
    with tempfile.TemporaryDirectory() as tmp:
        midi = Path(tmp) / "quartet.mid"
        write_midi(piece, midi)
        fs_s = fluidsynth_seconds(midi, sr, args.repeats)
    ours_s = best_of(lambda: renderer.render(piece, sample_rate=sr, seed=1), args.repeats)
    print(
        f"60-s 4-part MIDI at {sr} Hz: ours {ours_s:.3f} s, FluidSynth (FluidR3_GM, same run) {fs_s:.3f} s: "
        f"ratio {ours_s / fs_s:.2f} (target <= 3.0)"
    )

    if not args.skip_memory:
        cmd = [
            sys.executable,
            __file__,
            "--memory-child",
            "--sample-rate",
            str(sr),
            "--threads",
            str(args.threads),
        ]
        if args.bundle:
            cmd += ["--bundle", args.bundle]
        start = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        report = json.loads(out)
        print(
            f"10-minute 4-part piece: rendered in {time.perf_counter() - start:.1f} s, peak memory "
            f"{report['peak_mb']:.0f} MB (target <= 1536 MB: ratio {report['peak_mb'] / 1536:.2f})"
        )


if __name__ == "__main__":
    main()
