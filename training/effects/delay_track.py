"""Measure a time-varying delay from input and output: windowed normalised cross-correlation per window."""

from __future__ import annotations

import numpy as np
from scipy import fft

WINDOW = 512
HOP = 256
#: A track point counts only if its correlation peak beats the runner-up (outside +-GUARD lags) by this.
PEAK_RATIO = 1.5
GUARD = 8
#: Windows whose input puts more than this share of its energy in one sample (impulses) are skipped.
MAX_PEAK_SHARE = 0.05


def delay_track(
    x: np.ndarray,
    y: np.ndarray,
    sr: int,
    min_seconds: float,
    max_seconds: float,
    hop: int = HOP,
    skip_impulses: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(output times in seconds, delays in samples) where the delayed path is unambiguous.

    Per window, the normalised cross-correlation of target and input over lags min..max; kept only where the
    peak clearly beats the runner-up (broadband material: impulses, noise; tones are periodic, ambiguous).
    """
    lo, hi = max(1, int(min_seconds * sr)), int(max_seconds * sr)
    nfft = fft.next_fast_len(WINDOW + hi, real=True)
    lags = np.arange(lo, hi + 1)
    times, delays = [], []
    for start in range(hi, len(x) - WINDOW, hop):
        seg_y = y[start : start + WINDOW]
        seg_x = x[start - hi : start + WINDOW]
        energy_x = float(seg_x @ seg_x)
        if energy_x < 1e-8 * len(seg_x) or float(seg_y @ seg_y) < 1e-10 * len(seg_y):
            continue
        if skip_impulses and float(np.max(seg_x**2)) > MAX_PEAK_SHARE * energy_x:
            continue  # an impulse: with feedback, a window may hold only its 2nd or 3rd echo (a multiple of the delay)
        corr = fft.irfft(np.conj(fft.rfft(seg_y, nfft)) * fft.rfft(seg_x, nfft), nfft)
        # corr[k] pairs y[start + j] with x[start - hi + j + k]: lag = hi - k
        cumulative = np.concatenate([[0.0], np.cumsum(seg_x**2)])
        energy = cumulative[hi - lags + WINDOW] - cumulative[hi - lags]
        score = corr[hi - lags] / np.sqrt(np.maximum(energy, 1e-12))
        best = int(np.argmax(score))
        if score[best] <= 0:
            continue
        others = np.abs(np.arange(len(score)) - best) > GUARD
        if not others.any() or score[best] < PEAK_RATIO * float(np.max(score[others])):
            continue
        offset = 0.0
        if 0 < best < len(score) - 1:  # parabolic peak interpolation
            a, b, c = score[best - 1 : best + 2]
            offset = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else 0.0
        times.append((start + WINDOW / 2) / sr)
        delays.append(lags[best] + offset)
    return np.asarray(times), np.asarray(delays)
