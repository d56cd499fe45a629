"""Benchmark: x-real-time of the DDSP synth alone (harmonic + noise), 60 s at 48 and 24 kHz, 2 threads.

Prints the fast (no-autograd) path per part and whole against the >=500x target, the differentiable torch
path on a shorter render, and an anchor measured in the same run (torch.sin ns/element; 1.45 ns on an idle
target machine) so figures taken on a busy machine can be read relative to it (load factor = anchor / 1.45).
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from readdsp.core.synth import DDSPSynth

TARGET_X_REALTIME = 500.0
IDLE_SIN_NS = 1.45  # torch.sin ns/element on the idle 2-core target machine (2 threads)


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


def _bench_fast(sample_rate: int, seconds: float, repeats: int) -> tuple[float, float, float]:
    """Best-of-`repeats` seconds of the fast path: (harmonic only, noise only, whole synth without reverb)."""
    synth = DDSPSynth(sample_rate)
    controls = _controls(synth, seconds)
    generator = torch.Generator()
    with torch.no_grad():
        synth.get_signal(_controls(synth, 1.0), fast=True)  # numba compile / cache load
        harmonic_s = _best_seconds(
            lambda: synth.harmonic.get_signal(
                controls.amplitude, controls.harmonic_distribution, controls.f0_hz, fast=True
            ),
            repeats,
        )
        noise_s = _best_seconds(
            lambda: synth.noise.get_signal(controls.noise_magnitudes, generator=generator, fast=True), repeats
        )
        whole_s = _best_seconds(lambda: synth.get_signal(controls, generator=generator, fast=True), repeats)
    return harmonic_s, noise_s, whole_s


def _bench_differentiable(sample_rate: int, seconds: float) -> tuple[float, float]:
    """Seconds of the torch path: (no-grad render, forward + backward through a squared-mean loss)."""
    synth = DDSPSynth(sample_rate)
    short = _controls(synth, seconds)
    generator = torch.Generator()
    with torch.no_grad():
        nograd_s = _best_seconds(lambda: synth.get_signal(short, generator=generator, fast=False), 2)
    grad_s = _best_seconds(
        lambda: (
            synth.get_signal(
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
            .backward()
        ),
        2,
    )
    return nograd_s, grad_s


def _sin_ns() -> float:
    x = torch.rand(10_000_000)
    return _best_seconds(lambda: torch.sin(x), 3) / x.numel() * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--diff-seconds", type=float, default=5.0)
    parser.add_argument("--sample-rates", type=int, nargs="+", default=[48000, 24000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(2)

    sin_before = _sin_ns()
    fast = {sr: _bench_fast(sr, args.seconds, args.repeats) for sr in args.sample_rates}
    sin_after = _sin_ns()
    load = min(sin_before, sin_after) / IDLE_SIN_NS
    print(
        f"anchor torch.sin: {sin_before:.2f} / {sin_after:.2f} ns/element before / after"
        f" (idle target machine: {IDLE_SIN_NS}; load factor {load:.1f})"
    )
    for sr, (harmonic_s, noise_s, whole_s) in fast.items():
        whole_x = args.seconds / whole_s
        print(
            f"{sr} Hz, {args.seconds:.0f} s, fast path (best of {args.repeats}):"
            f" harmonic {harmonic_s * 1e3:.1f} ms = {args.seconds / harmonic_s:.0f}x,"
            f" noise {noise_s * 1e3:.1f} ms = {args.seconds / noise_s:.0f}x"
        )
        print(
            f"  whole synth (harmonic + noise, no reverb) at {sr} Hz: {whole_s * 1e3:.1f} ms"
            f" = {whole_x:.0f}x real time; ratio to the {TARGET_X_REALTIME:.0f}x target:"
            f" {whole_x / TARGET_X_REALTIME:.2f} (load-corrected: {whole_x * load / TARGET_X_REALTIME:.2f})"
        )

    first_rate = args.sample_rates[0]
    nograd_s, grad_s = _bench_differentiable(first_rate, args.diff_seconds)
    diff_x = args.diff_seconds / nograd_s
    fast_x = args.seconds / fast[first_rate][2]
    print(
        f"differentiable synth ({args.diff_seconds:.0f} s at {first_rate} Hz): no-grad {diff_x:.0f}x,"
        f" forward+backward {args.diff_seconds / grad_s:.0f}x real time;"
        f" fast path is {fast_x / diff_x:.1f}x the no-grad differentiable path"
    )


if __name__ == "__main__":
    main()
