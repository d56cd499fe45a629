"""Fit the modulated-delay model (chorus, flanger, vibrato): followed delay track -> periodic LFO -> feedback
search -> Gauss-Newton on the audio."""

from __future__ import annotations

import time

import numpy as np
from scipy import optimize

from readdsp.core.effects.lfo import Lfo, fourier_basis
from readdsp.core.effects.modulation import ModulatedDelayModel
from readdsp.training.effects.delay_track import HOP, delay_track, follow_delay
from readdsp.training.effects.grey_box import FitFailed, mix
from readdsp.training.effects.modulation_refine import refine_on_audio
from readdsp.training.effects.periodic_fit import fit_periodic, refine_periodic

MIN_DELAY_SECONDS = 0.0003
MAX_DELAY_SECONDS = 0.07
#: (A triangle's corners need many: the true triangle on the 55 ms chorus scores ESR 0.014 with 32, 0.0034
#: with 64.) Harmonics of the passes of the followed track over the whole signal: each pass follows the previous one's
#: sharper prediction, so a triangle's corners (missed while the prediction was smooth: they fall outside the
#: search radius) come back a little more each pass.
FINAL_HARMONICS = (8, 16, 32, 64, 64)
#: While the followed track grows, the LFO keeps few harmonics: a smooth guess bridges the phases the seed
#: missed (with 8, a gap's wild interpolation led tones to lock one period off, and the error fed itself).
GROW_HARMONICS = 3
#: The followed track searches this far (ms) either side of the prediction.
FOLLOW_RADIUS_MS = 0.5
MIN_TRACK_POINTS = 16
#: A fitted LFO may not leave the measured delays' range by more than this (ms): it would be ringing.
RING_MS = 0.3
FEEDBACK_LIMIT = 0.95
#: Seconds of the train split the feedback search runs on (the capture section and some material).
FEEDBACK_SPAN_SECONDS = 12.0


def _model(
    theta: np.ndarray, sr: int, dry: float = 1.0, wet: float = 1.0, read_first: bool = False
) -> ModulatedDelayModel:
    return ModulatedDelayModel(sr, Lfo(theta[0], theta[1:-1], sr), float(theta[-1]), dry, wet, read_first)


def _wet(theta: np.ndarray, x: np.ndarray, sr: int, read_first: bool = False) -> np.ndarray:
    model = _model(theta, sr, 0.0, 1.0, read_first)
    return model._process(x)


def measured_delays_ms(x: np.ndarray, y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """(times s, delays ms) measured from the target by cross-correlation (for the fit and the report)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    dry = float(x @ y) / max(float(x @ x), 1e-30)  # the dry path correlates at lag 0 only: take it out first
    times, delays = delay_track(x, y - dry * x, sr, MIN_DELAY_SECONDS, MAX_DELAY_SECONDS, skip_impulses=True)
    return times, delays * 1000.0 / sr


def follow_lfo(
    x: np.ndarray, y: np.ndarray, sr: int, times: np.ndarray, delays_ms: np.ndarray
) -> tuple[float, np.ndarray]:
    """(rate, LFO coefficients in ms) from a delay track followed over the whole signal.

    The unguided track holds only broadband windows (the capture section's noise and impulses: seconds, too
    short to pin the rate). A periodic curve fitted there predicts the delay a little further each side, the
    track is followed near the prediction on any material (tones too), the curve is refitted, and so on until
    the track spans the signal (after the modulation-extraction idea: measure the modulation, then fit to it).
    """
    lo, hi = np.percentile(times, [10, 90])  # the seed: where most broadband windows are
    if hi - lo < 0.5:
        lo, hi = float(times.min()), float(times.max())
    seed = (times >= lo) & (times <= hi)
    # the seed must hold more than a period: slower rates would fit any short stretch
    rate, coef = fit_periodic(times[seed], delays_ms[seed], GROW_HARMONICS, (min(1.25 / max(hi - lo, 1e-3), 5.0), 10.0))
    dry = float(x @ y) / max(float(x @ x), 1e-30)
    wet_only = y - dry * x
    grid = np.arange(0.3, len(x) / sr - 0.1, HOP / sr)
    radius = max(2, int(FOLLOW_RADIUS_MS * sr / 1000))
    final = 0  # passes over the whole signal
    while final < len(FINAL_HARMONICS):
        grow = max(2.0, 0.3 * (hi - lo))
        lo, hi = max(0.0, lo - grow), min(float(grid[-1]), hi + grow)
        window = grid[(grid >= lo) & (grid <= hi)]
        predicted = fourier_basis(rate * window, (len(coef) - 1) // 2) @ coef
        t, d, _ = follow_delay(x, wet_only, sr, window, predicted * sr / 1000, radius)
        if len(t) < MIN_TRACK_POINTS:
            break
        covered = lo <= 0 and hi >= grid[-1]
        final += covered
        harmonics = FINAL_HARMONICS[final - 1] if final else GROW_HARMONICS
        new_rate, new_coef = refine_periodic(t, d * 1000 / sr, rate, harmonics)
        shape = fourier_basis(np.arange(1024) / 1024, (len(new_coef) - 1) // 2) @ new_coef
        measured = d * 1000 / sr
        if shape.min() < measured.min() - RING_MS or shape.max() > measured.max() + RING_MS:
            break  # more harmonics than the track's phases support: the curve rings between them; keep the last
        rate, coef = new_rate, new_coef
    padded = np.zeros(1 + 2 * FINAL_HARMONICS[-1])
    padded[: len(coef)] = coef[: len(padded)]
    return rate, padded


def search_feedback(theta: np.ndarray, x: np.ndarray, y: np.ndarray, sr: int) -> tuple[float, bool, float]:
    """(feedback, read_first, squared error) that fit best with the LFO held, on the first FEEDBACK_SPAN_SECONDS.

    Per loop convention (read before or after writing the line: loops one sample apart, which matters at a
    flanger's few-ms delays), a grid, then a bounded scalar search.
    """
    n = min(len(x), int(FEEDBACK_SPAN_SECONDS * sr))
    xs, ys = x[:n], y[:n]
    found = []
    for read_first in (False, True):

        def error(feedback: float, read_first: bool = read_first) -> float:
            w = _wet(np.concatenate([theta[:-1], [feedback]]), xs, sr, read_first)
            dry, wet = mix(xs, w, ys)
            r = dry * xs + wet * w - ys
            return float(r @ r)

        grid = np.linspace(-0.9, 0.9, 19)
        best = float(grid[int(np.argmin([error(f) for f in grid]))])
        lo, hi = max(-FEEDBACK_LIMIT, best - 0.1), min(FEEDBACK_LIMIT, best + 0.1)
        result = optimize.minimize_scalar(error, bounds=(lo, hi), method="bounded", options={"xatol": 1e-3})
        found.append((float(result.fun), float(result.x), read_first))
    least, feedback, read_first = min(found)
    return feedback, read_first, least


def fit_modulation(x: np.ndarray, y: np.ndarray, sr: int, max_seconds: float) -> ModulatedDelayModel:
    """LFO rate and shape from the measured delay track, then all of it refined on the audio."""
    start = time.monotonic()
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    times, delays = measured_delays_ms(x, y, sr)
    if len(times) < MIN_TRACK_POINTS:
        raise FitFailed(f"no delayed copy of the input between {MIN_DELAY_SECONDS * 1e3:g} and "
                        f"{MAX_DELAY_SECONDS * 1e3:g} ms")  # fmt: skip
    # two starts: the LFO from the followed track, and from the unguided track alone (which can be the better
    # one where broadband material spans the signal); the feedback search scores each on the audio
    starts = [follow_lfo(x, y, sr, times, delays), fit_periodic(times, delays, FINAL_HARMONICS[0])]
    best: tuple[float, np.ndarray, bool] | None = None
    for rate, coefficients in starts:
        padded = np.zeros(1 + 2 * FINAL_HARMONICS[-1])
        padded[: len(coefficients)] = coefficients[: len(padded)]
        candidate = np.concatenate([[rate], padded, [0.0]])
        feedback, loop, error = search_feedback(candidate, x, y, sr)
        if best is None or error < best[0]:
            candidate[-1] = feedback
            best = (error, candidate, loop)
    assert best is not None
    _, theta, read_first = best
    left = max_seconds - (time.monotonic() - start)
    rate, coefficients, feedback = refine_on_audio(x, y, sr, theta[0], theta[1:-1], theta[-1], read_first, left,
                                                   FEEDBACK_LIMIT)  # fmt: skip
    theta = np.concatenate([[rate], coefficients, [feedback]])
    dry, wet = mix(x, _wet(theta, x, sr, read_first), y)
    return _model(theta, sr, dry, wet, read_first)
