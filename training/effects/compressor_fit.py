"""Fit the compressor model: a small grid of starts scored on the first seconds, then LM on the audio."""

from __future__ import annotations

import itertools

import numpy as np

from readdsp.core.effects.compressor import CompressorModel, CompressorParams
from readdsp.training.effects.grey_box import fit_over_spans

START_SECONDS = 12.0
THRESHOLDS_DB = (-45.0, -35.0, -25.0, -15.0)
RATIOS = (2.0, 6.0)
RELEASES_MS = (30.0, 200.0)


def _params(v: np.ndarray) -> CompressorParams:
    """theta = [log detector ms, threshold dB, log(ratio - 1), log knee dB, log attack ms, log release ms,
    makeup dB]: logs keep times, knee and ratio in range without bounds."""
    return CompressorParams(float(np.exp(v[0])), float(v[1]), 1.0 + float(np.exp(v[2])), float(np.exp(v[3])),
                            float(np.exp(v[4])), float(np.exp(v[5])), float(v[6]))  # fmt: skip


def _theta(p: CompressorParams) -> np.ndarray:
    return np.array([np.log(p.detector_ms), p.threshold_db, np.log(p.ratio - 1.0), np.log(p.knee_db),
                     np.log(p.attack_ms), np.log(p.release_ms), p.makeup_db])  # fmt: skip


def fit_compressor(x: np.ndarray, y: np.ndarray, sr: int, max_seconds: float) -> CompressorModel:
    """Threshold, ratio, knee, detector, attack, release and makeup gain, by least squares on the audio."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)

    def residual_for(xs: np.ndarray, ys: np.ndarray):  # noqa: ANN202
        return lambda v: CompressorModel(sr, _params(v))._process(xs) - ys

    head = int(START_SECONDS * sr)
    start_residual = residual_for(x[:head], y[:head])
    makeup = 10 * np.log10(max(float(y @ y), 1e-20) / max(float(x @ x), 1e-20))
    starts = [CompressorParams(5.0, t, r, 6.0, 5.0, rel, makeup)
              for t, r, rel in itertools.product(THRESHOLDS_DB, RATIOS, RELEASES_MS)]  # fmt: skip
    theta = min((_theta(p) for p in starts), key=lambda v: float(np.sum(start_residual(v) ** 2)))
    steps = np.array([1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-4])
    lower = np.array([np.log(0.01), -120.0, np.log(1e-3), np.log(0.01), np.log(0.01), np.log(0.01), -60.0])
    upper = np.array([np.log(5000), 0.0, np.log(999.0), np.log(60.0), np.log(5000), np.log(5000), 60.0])
    theta = fit_over_spans(residual_for, x, y, sr, theta, lambda _: steps, max_seconds, lower, upper)
    return CompressorModel(sr, _params(theta))
