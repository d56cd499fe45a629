"""Benchmark: x-real-time of the DDSP synth alone (harmonic + noise) for a 60-s render at 48 kHz, 2 threads.

Prints the fast (numba, no-autograd) path against the >=500x target, the differentiable torch path on a
shorter render, and an anchor measured in the same run (torch.sin ns/element; 1.45 ns on an idle target machine)
so figures taken on a busy machine can be read relative to it.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from readdsp.core.synth import DDSPSynth

TARGET_X_REALTIME = 500.0


def _controls(synth: DDSPSynth, seconds: float):
    n_frames = int(seconds * 250)
    generator = torch.Generator().manual_seed(0)
    t = torch.arange(n_frames) / 250.0
    f0 = 220.0 + 310.0 * t / max(seconds, 1e-9) + 220.0 * (2 ** (30 / 1200 * torch.sin(2 * math.pi * 5.5 * t)) - 1)
    smooth = torch.nn.functional.avg_pool1d(torch.randn(1, 126, n_frames, generator=generator), 25, 1, 12)
    raw = smooth.transpose(1, 2) * 3.0
    return synth.get_controls(raw[..., :1], raw[..., 1:61], raw[..., 61:], f0[None, :, None])


def _best_seconds(fn, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--diff-seconds", type=float, default=5.0)
    parser.add_argument("--sample-rate", type=int, default=48000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    synth = DDSPSynth(args.sample_rate)
    controls = _controls(synth, args.seconds)
    generator = torch.Generator()

    x = torch.rand(10_000_000)
    sin_ns = _best_seconds(lambda: torch.sin(x), 3) / x.numel() * 1e9

    with torch.no_grad():
        synth.get_signal(_controls(synth, 1.0), fast=True)  # numba compile / cache load
        harmonic_s = _best_seconds(
            lambda: synth.harmonic.get_signal(
                controls.amplitude, controls.harmonic_distribution, controls.f0_hz, fast=True
            ),
            args.repeats,
        )
        noise_s = _best_seconds(
            lambda: synth.noise.get_signal(controls.noise_magnitudes, generator=generator), args.repeats
        )
        fast_s = _best_seconds(lambda: synth.get_signal(controls, generator=generator, fast=True), args.repeats)
        short = _controls(synth, args.diff_seconds)
        diff_nograd_s = _best_seconds(lambda: synth.get_signal(short, generator=generator, fast=False), 2)
    diff_grad_s = _best_seconds(
        lambda: synth.get_signal(
            synth.get_controls(
                torch.zeros(1, short.n_frames, 1, requires_grad=True),
                torch.zeros(1, short.n_frames, 60, requires_grad=True),
                torch.zeros(1, short.n_frames, 65, requires_grad=True),
                short.f0_hz[..., None],
            ),
            generator=generator,
        )
        .square()
        .mean()
        .backward(),
        2,
    )

    fast_x = args.seconds / fast_s
    print(f"anchor torch.sin: {sin_ns:.2f} ns/element (idle target machine: 1.45; load factor {sin_ns / 1.45:.1f})")
    print(f"fast harmonic only: {harmonic_s * 1e3:.1f} ms = {args.seconds / harmonic_s:.0f}x real time")
    print(f"fast noise only:    {noise_s * 1e3:.1f} ms = {args.seconds / noise_s:.0f}x real time")
    print(
        f"fast synth ({args.seconds:.0f} s at {args.sample_rate} Hz): {fast_s * 1e3:.1f} ms = {fast_x:.0f}x real time;"
        f" ratio to the {TARGET_X_REALTIME:.0f}x target: {fast_x / TARGET_X_REALTIME:.2f}"
    )
    print(
        f"differentiable synth ({args.diff_seconds:.0f} s): no-grad {args.diff_seconds / diff_nograd_s:.0f}x,"
        f" forward+backward {args.diff_seconds / diff_grad_s:.0f}x real time;"
        f" fast path speed-up over no-grad differentiable: {(args.diff_seconds / diff_nograd_s) and fast_x / (args.diff_seconds / diff_nograd_s):.1f}x"
    )


if __name__ == "__main__":
    main()
