"""Fit the modulated-delay model (chorus, flanger, vibrato): delay track -> periodic LFO -> LM on the audio."""

from __future__ import annotations

import numpy as np

from readdsp.core.effects.lfo import Lfo
from readdsp.core.effects.modulation import ModulatedDelayModel
from readdsp.training.effects.delay_track import delay_track
from readdsp.training.effects.grey_box import FitFailed, fit_lfo_over_spans, mix
from readdsp.training.effects.periodic_fit import fit_periodic

MIN_DELAY_SECONDS = 0.0003
MAX_DELAY_SECONDS = 0.07
#: LFO harmonics per fit stage (the span doubles each stage): a triangle's corners need many.
HARMONICS = (8, 16, 32)
MIN_TRACK_POINTS = 16
FEEDBACK_LIMIT = 0.95


def _model(theta: np.ndarray, sr: int, dry: float = 1.0, wet: float = 1.0) -> ModulatedDelayModel:
    return ModulatedDelayModel(sr, Lfo(theta[0], theta[1:-1], sr), float(theta[-1]), dry, wet)


def _wet(theta: np.ndarray, x: np.ndarray, sr: int) -> np.ndarray:
    model = _model(theta, sr, 0.0, 1.0)
    return model._process(x)


def measured_delays_ms(x: np.ndarray, y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """(times s, delays ms) measured from the target by cross-correlation (for the fit and the report)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    dry = float(x @ y) / max(float(x @ x), 1e-30)  # the dry path correlates at lag 0 only: take it out first
    times, delays = delay_track(x, y - dry * x, sr, MIN_DELAY_SECONDS, MAX_DELAY_SECONDS, skip_impulses=True)
    return times, delays * 1000.0 / sr


def fit_modulation(x: np.ndarray, y: np.ndarray, sr: int, max_seconds: float) -> ModulatedDelayModel:
    """LFO rate and shape from the measured delay track, then all of it refined on the audio."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    times, delays = measured_delays_ms(x, y, sr)
    if len(times) < MIN_TRACK_POINTS:
        raise FitFailed(f"no delayed copy of the input between {MIN_DELAY_SECONDS * 1e3:g} and "
                        f"{MAX_DELAY_SECONDS * 1e3:g} ms")  # fmt: skip
    rate, coefficients = fit_periodic(times, delays, HARMONICS[0])
    theta = np.concatenate([[rate], coefficients, [0.0]])

    def residual_for(xs: np.ndarray, ys: np.ndarray):  # noqa: ANN202
        def residual(v: np.ndarray) -> np.ndarray:
            w = _wet(v, xs, sr)
            dry, wet = mix(xs, w, ys)
            return dry * xs + wet * w - ys

        return residual

    theta = fit_lfo_over_spans(residual_for, x, y, sr, theta, HARMONICS, max_seconds, 1e-3, FEEDBACK_LIMIT)
    dry, wet = mix(x, _wet(theta, x, sr), y)
    return _model(theta, sr, dry, wet)
