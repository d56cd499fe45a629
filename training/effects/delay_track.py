"""Measure a time-varying delay from input and output: windowed normalised cross-correlation per window."""

from __future__ import annotations

import numba
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


#: The guided tracker takes the correlation peak nearest the prediction among those within this share of the
#: window's best (a tone's correlation repeats every period: the nearest repeat is the right one).
NEAR_PEAK_SHARE = 0.8
#: ...and only where target and input correlate at least this well (normalised, 0..1) at that lag.
MIN_CORRELATION = 0.5


@numba.njit(cache=True)
def _follow(x, y, starts, predicted, radius, window):  # noqa: ANN001, ANN202
    """Per window: (delay in samples, correlation) of the local peak nearest predicted[i]; delay -1 if none."""
    n_lags = 2 * radius + 1
    delays = np.full(len(starts), -1.0)
    quality = np.zeros(len(starts))
    score = np.empty(n_lags)
    for i in range(len(starts)):
        s = starts[i]
        centre = int(np.round(predicted[i]))
        if s - centre - radius - 1 < 0 or centre - radius < 1:
            continue
        ey = 0.0
        for j in range(window):
            ey += y[s + j] * y[s + j]
        if ey <= 1e-10 * window:
            continue
        best = -1e300
        for k in range(n_lags):
            lag = centre - radius + k
            c = 0.0
            ex = 0.0
            for j in range(window):
                v = x[s + j - lag]
                c += y[s + j] * v
                ex += v * v
            score[k] = c / np.sqrt(max(ex * ey, 1e-30))
            best = max(best, score[k])
        if best < MIN_CORRELATION:
            continue
        pick = -1
        for k in range(1, n_lags - 1):
            if score[k] >= score[k - 1] and score[k] >= score[k + 1] and score[k] >= NEAR_PEAK_SHARE * best:
                if pick < 0 or abs(k - radius) < abs(pick - radius):
                    pick = k
        if pick < 0:
            continue
        a, b, c3 = score[pick - 1], score[pick], score[pick + 1]
        curvature = a - 2 * b + c3
        offset = 0.5 * (a - c3) / curvature if curvature < 0 else 0.0
        delays[i] = centre - radius + pick + offset
        quality[i] = b
    return delays, quality


def follow_delay(
    x: np.ndarray, y: np.ndarray, sr: int, times: np.ndarray, predicted: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times s, delays in samples, correlation) measured near a predicted delay track, on any material.

    Where the unguided track needs broadband windows, this one also reads tones: the correlation of a tone
    repeats every period, and the repeat nearest the prediction (within `radius` samples) is taken.
    """
    starts = np.round(np.asarray(times) * sr - WINDOW / 2).astype(np.int64)
    ok = (starts >= 0) & (starts + WINDOW <= len(y))
    delays, quality = _follow(np.asarray(x, np.float64), np.asarray(y, np.float64), starts[ok],
                              np.asarray(predicted, np.float64)[ok], int(radius), WINDOW)  # fmt: skip
    keep = delays >= 0
    return np.asarray(times)[ok][keep], delays[keep], quality[keep]
