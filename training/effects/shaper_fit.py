"""Fit the Hammerstein model (static waveshaper, then a learned FIR) by alternating least squares."""

from __future__ import annotations

import time

import numpy as np

from readdsp.core.effects.fir_stream import apply_fir
from readdsp.core.effects.shaper import apply_shaper
from readdsp.training.effects.fir_fit import fit_fir

N_KNOTS = 129
#: Knot spacing grows as exp(KNOT_CURVE * |u|): dense near zero, where quiet material lives.
KNOT_CURVE = 6.0
SHAPER_FIT_SECONDS = 12.0
#: Rows of the curve's least-squares problem kept (every n-th sample), to bound its memory.
ROW_STEP = 4


def shaper_knots(peak: float, n_knots: int = N_KNOTS) -> np.ndarray:
    """Symmetric knots on [-peak, peak], densest around zero."""
    u = np.linspace(-1.0, 1.0, n_knots)
    return np.sign(u) * peak * np.expm1(KNOT_CURVE * np.abs(u)) / np.expm1(KNOT_CURVE)


def _hat_weights(knots: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each sample, the left knot index and the weight of the right knot (linear interpolation)."""
    x = np.clip(x, knots[0], knots[-1])
    left = np.clip(np.searchsorted(knots, x, side="right") - 1, 0, len(knots) - 2)
    frac = (x - knots[left]) / (knots[left + 1] - knots[left])
    return left, frac


def _fit_values(knots: np.ndarray, x: np.ndarray, y: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Least-squares curve values given the FIR: y ~ taps * shaper(x), linear in the values."""
    left, frac = _hat_weights(knots, x)
    k = len(knots)
    columns = np.empty((len(x[::ROW_STEP]), k), np.float64)
    for j in range(k):
        hat = np.where(left == j, 1.0 - frac, 0.0) + np.where(left == j - 1, frac, 0.0)
        columns[:, j] = (apply_fir(taps, hat) if len(taps) > 1 else hat * taps[0])[::ROW_STEP]
    gram = columns.T @ columns
    gram += 1e-9 * np.trace(gram) / k * np.eye(k)
    return np.linalg.solve(gram, columns.T @ y[::ROW_STEP])


def fit_shaper_fir(
    x: np.ndarray,
    y: np.ndarray,
    sr: int,
    fir_length: int,
    rounds: int = 3,
    max_seconds: float = 300.0,
    taps: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(knots, values, taps) minimising ||taps * shaper(x) - y||^2, alternating the two linear problems.

    The curve is fitted on the first SHAPER_FIT_SECONDS (our splits open with the capture section: sweeps and
    noise bursts up to -4 dB RMS cover the level range) to bound the cost; the FIR on all of x. `taps` (length
    `fir_length`) warm-starts the FIR; the default is the identity.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    knots = shaper_knots(max(float(np.max(np.abs(x))), 1e-3))
    if taps is None:
        taps = np.zeros(fir_length)
        taps[0] = 1.0
    taps = np.asarray(taps, np.float64)
    start = time.monotonic()
    part = slice(0, int(SHAPER_FIT_SECONDS * sr))
    values = knots.copy()
    for _ in range(rounds):
        values = _fit_values(knots, x[part], y[part], taps)
        shaped = apply_shaper(knots, values, x)
        left = max(1.0, max_seconds - (time.monotonic() - start))
        taps = fit_fir(shaped, y, fir_length, max_iterations=100, max_seconds=left / rounds).astype(np.float64)
        scale = float(np.max(np.abs(taps))) or 1.0  # keep the FIR's peak at 1; the curve absorbs the gain
        taps /= scale
        values *= scale
        if time.monotonic() - start > max_seconds:
            break
    return knots.astype(np.float32), values.astype(np.float32), taps.astype(np.float32)
