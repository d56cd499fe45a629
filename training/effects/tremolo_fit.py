"""Fit the tremolo model: a gain track from frame energies -> periodic LFO -> LM on the audio."""

from __future__ import annotations

import numpy as np

from readdsp.core.effects.lfo import Lfo
from readdsp.core.effects.tremolo import TremoloModel
from readdsp.training.effects.grey_box import FitFailed, fit_over_spans
from readdsp.training.effects.periodic_fit import fit_periodic

FRAME = 256
HARMONICS = 8


def measured_gain(x: np.ndarray, y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """(times s, gain) per frame where the input is clearly audible: sqrt(sum y^2 / sum x^2)."""
    n = len(x) // FRAME * FRAME
    ex = (np.asarray(x[:n], np.float64) ** 2).reshape(-1, FRAME).sum(axis=1)
    ey = (np.asarray(y[:n], np.float64) ** 2).reshape(-1, FRAME).sum(axis=1)
    keep = ex > 1e-4 * FRAME * max(float(np.median(ex[ex > 0])) if np.any(ex > 0) else 0.0, 1e-12)
    times = (np.arange(len(ex)) + 0.5) * FRAME / sr
    return times[keep], np.sqrt(ey[keep] / ex[keep])


def fit_tremolo(x: np.ndarray, y: np.ndarray, sr: int, max_seconds: float) -> TremoloModel:
    """Gain LFO from the measured gain track, then refined on the audio."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    times, gain = measured_gain(x, y, sr)
    if len(times) < 16:
        raise FitFailed("too little audible input to measure a gain")
    rate, coefficients = fit_periodic(times, gain, HARMONICS)
    theta = np.concatenate([[rate], coefficients])

    def residual_for(xs: np.ndarray, ys: np.ndarray):  # noqa: ANN202
        return lambda v: TremoloModel(sr, Lfo(v[0], v[1:], sr))._process(xs) - ys

    def steps_for(span: float) -> np.ndarray:
        return np.concatenate([[1e-3 / span], np.full(len(coefficients), 1e-4)])

    lower = np.concatenate([[1e-3], np.full(len(coefficients), -np.inf)])
    upper = np.concatenate([[50.0], np.full(len(coefficients), np.inf)])
    theta = fit_over_spans(residual_for, x, y, sr, theta, steps_for, max_seconds, lower, upper)
    return TremoloModel(sr, Lfo(theta[0], theta[1:], sr))
