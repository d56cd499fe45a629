"""Fit the JUCE-chorus grey box: delay track by windowed cross-correlation, sine fit, span-doubling refinement."""

from __future__ import annotations

import time

import numpy as np
from scipy import optimize

from readdsp.core.effects.chorus_dsp import ChorusParams, JuceChorusModel, wet_signal
from readdsp.training.effects.delay_track import delay_track

MAX_DELAY_SECONDS = 0.04
MIN_DELAY_SECONDS = 0.001
TRACK_SECONDS = 12.0
INLIER_SAMPLES = 3.0
RATE_RANGE_HZ = (0.05, 10.0)
#: Refinement stops doubling here: the LFO restarts per split, so it must stay in step for one split only.
MAX_REFINE_SECONDS = 48.0


def _sine_residual(v: np.ndarray, times: np.ndarray, delays: np.ndarray) -> np.ndarray:
    return v[2] + v[3] * np.sin(2 * np.pi * v[0] * times + v[1]) - delays


def fit_sine(times: np.ndarray, delays: np.ndarray, candidates: int = 24) -> tuple[float, float, float, float]:
    """(rate Hz, phase, centre, swing) of delays ~ centre + swing sin(2 pi rate t + phase).

    A rate grid scored by inliers at a loose tolerance (the grid is coarse), then the best candidates refined
    by robust least squares; the one with most tight inliers wins (track outliers: tonal windows, clamping).
    """
    span = max(float(times[-1] - times[0]), 1e-3)
    rates = np.arange(RATE_RANGE_HZ[0], RATE_RANGE_HZ[1], 0.05 / span)
    loose = 8 * INLIER_SAMPLES
    scored = []
    for rate in rates:
        basis = np.stack([np.ones_like(times), np.sin(2 * np.pi * rate * times), np.cos(2 * np.pi * rate * times)], 1)
        inliers = np.ones(len(times), bool)
        for _ in range(3):
            coef = np.linalg.lstsq(basis[inliers], delays[inliers], rcond=None)[0]
            inliers = np.abs(basis @ coef - delays) < 2 * loose
            if inliers.sum() < 4:
                break
        scored.append((int(np.sum(np.abs(basis @ coef - delays) < loose)), float(rate), coef))
    scored.sort(key=lambda item: -item[0])
    best: tuple[int, np.ndarray] = (-1, np.zeros(4))
    for _, rate, (centre, s, c) in scored[:candidates]:
        start = np.array([rate, np.arctan2(c, s), centre, np.hypot(s, c)])
        fitted = optimize.least_squares(
            _sine_residual, start, loss="soft_l1", f_scale=INLIER_SAMPLES, args=(times, delays)
        ).x
        count = int(np.sum(np.abs(_sine_residual(fitted, times, delays)) < INLIER_SAMPLES))
        if count > best[0]:
            best = (count, fitted)
    rate, phase, centre, swing = best[1]
    return float(rate), float(phase), float(centre), abs(float(swing))


def _mix_and_error(x: np.ndarray, y: np.ndarray, p: ChorusParams, sr: int) -> tuple[float, float, float]:
    """Least-squares (dry, wet) gains for these LFO settings, and the resulting squared error."""
    w = wet_signal(x, p, sr)
    xx, xw, ww, xy, wy = x @ x, x @ w, w @ w, x @ y, w @ y  # 2x2 normal equations: cheaper than lstsq
    det = xx * ww - xw * xw
    if det <= 1e-12 * max(xx * ww, 1e-30):
        dry, wet = xy / max(xx, 1e-30), 0.0
    else:
        dry, wet = (ww * xy - xw * wy) / det, (xx * wy - xw * xy) / det
    error = float(y @ y - 2 * (dry * xy + wet * wy) + dry * dry * xx + 2 * dry * wet * xw + wet * wet * ww)
    return float(dry), float(wet), error


def _with(p: ChorusParams, v: np.ndarray) -> ChorusParams:
    rate, phase, centre, swing, feedback = v
    return ChorusParams(rate, phase, centre, abs(swing), p.min_delay, float(np.clip(feedback, -0.99, 0.99)),
                        p.dry, p.wet)  # fmt: skip


def refine(x: np.ndarray, y: np.ndarray, p: ChorusParams, sr: int, max_seconds: float) -> ChorusParams:
    """Nelder-Mead on (rate, phase, centre, swing, feedback) over spans doubling up to the whole signal."""
    start = time.monotonic()
    span = int(TRACK_SECONDS * sr)
    last = min(len(x), int(MAX_REFINE_SECONDS * sr))

    def out_of_time(_: object) -> None:
        if time.monotonic() - start > max_seconds:
            raise StopIteration

    while True:
        xs, ys = x[:span].astype(np.float64), y[:span].astype(np.float64)
        v0 = np.array([p.rate_hz, p.phase, p.centre, p.swing, p.feedback])
        step = np.array([0.02 * sr / span, 0.05, 1.0, 1.0, 0.05])
        simplex = np.vstack([v0] + [v0 + np.diag(step)[i] for i in range(5)])
        result = optimize.minimize(
            lambda v, xs=xs, ys=ys, p=p: _mix_and_error(xs, ys, _with(p, v), sr)[2],
            v0, method="Nelder-Mead", callback=out_of_time,
            options={"initial_simplex": simplex, "xatol": 1e-6, "fatol": 1e-12, "maxfev": 300},
        )  # fmt: skip
        p = _with(p, result.x)
        p.dry, p.wet, _ = _mix_and_error(xs, ys, p, sr)
        if span >= last or time.monotonic() - start > max_seconds:
            return p
        span = min(last, span * 2)


def fit_chorus(x: np.ndarray, y: np.ndarray, sr: int, max_seconds: float = 300.0) -> ChorusParams:
    """Initial LFO from the delay track of the first TRACK_SECONDS, then refinement on the whole signal."""
    head = int(TRACK_SECONDS * sr)
    times, delays = delay_track(
        np.asarray(x[:head], np.float64), np.asarray(y[:head], np.float64), sr, MIN_DELAY_SECONDS, MAX_DELAY_SECONDS
    )
    if len(times) < 8:
        rate, phase, centre, swing = 1.0, 0.0, float(np.median(delays)) if len(delays) else 0.007 * sr, 0.0
    else:
        rate, phase, centre, swing = fit_sine(times, delays)
    p = ChorusParams(rate, phase, centre, swing, MIN_DELAY_SECONDS * sr, 0.0, 0.5, 0.5)
    return refine(np.asarray(x), np.asarray(y), p, sr, max_seconds)


def fit_chorus_model(x: np.ndarray, y: np.ndarray, sr: int, max_seconds: float) -> JuceChorusModel:
    """The grey box fitted on the train split (the LFO restarts at the start of each split)."""
    return JuceChorusModel(sr, fit_chorus(x, y, sr, max_seconds=max_seconds))
