"""Fit a periodic curve of unknown rate and shape to scattered measurements (an LFO from its track)."""

from __future__ import annotations

import numpy as np
from scipy import optimize

from readdsp.core.effects.lfo import fourier_basis

RATE_RANGE_HZ = (0.05, 10.0)
#: Harmonics while scanning rates (enough for a triangle's or a ramp's outline).
SCAN_HARMONICS = 3
#: A slower rate is taken only if it fits clearly better than this share of the faster one's residual.
SUBHARMONIC_MARGIN = 0.98
POINTS_PER_HARMONIC = 12


def _robust_fit(basis: np.ndarray, values: np.ndarray, rounds: int = 3) -> tuple[np.ndarray, float]:
    """Least squares refitted on the points within 3 median residuals; (coefficients, median |residual|)."""
    keep = np.ones(len(values), bool)
    coef = np.zeros(basis.shape[1])
    for _ in range(rounds):
        coef = np.linalg.lstsq(basis[keep], values[keep], rcond=None)[0]
        residual = np.abs(basis @ coef - values)
        scale = max(float(np.median(residual)), 1e-9)
        keep = residual < 3 * scale
        if keep.sum() < basis.shape[1] + 2:
            break
    return coef, float(np.median(np.abs(basis @ coef - values)))


def scan_rates(times: np.ndarray, values: np.ndarray, rate_range: tuple[float, float] = RATE_RANGE_HZ) -> float:
    """The LFO rate: the grid rate whose low-order periodic fit leaves the least median residual.

    The grid is fine enough that the phase drifts under 1/20 cycle across the measured span. A rate r/2 fits
    a shape of rate r as well as r does, so the fastest rate within reach of the best residual wins.
    """
    span = max(float(times[-1] - times[0]), 1e-3)
    rates = np.arange(rate_range[0], rate_range[1], 0.05 / span)
    residuals = np.array([_robust_fit(fourier_basis(r * times, SCAN_HARMONICS), values, 2)[1] for r in rates])
    best = float(residuals.min())
    near = np.flatnonzero(residuals <= best / SUBHARMONIC_MARGIN)
    # among near-best rates, the fastest local minimum
    return float(rates[near[-1]] if len(near) else rates[int(np.argmin(residuals))])


def fit_periodic(
    times: np.ndarray, values: np.ndarray, n_harmonics: int, rate_range: tuple[float, float] = RATE_RANGE_HZ
) -> tuple[float, np.ndarray]:
    """(rate Hz, Fourier coefficients [c0, a1, b1, ...]) of values ~ periodic(rate * times), robustly.

    Only as many harmonics as the points support (one per POINTS_PER_HARMONIC) are fitted; the rest are 0,
    left for the fit on the audio to find.
    """
    return refine_periodic(times, values, scan_rates(times, values, rate_range), n_harmonics)


def refine_periodic(times: np.ndarray, values: np.ndarray, rate: float, n_harmonics: int) -> tuple[float, np.ndarray]:
    """(rate, coefficients) refined from a known rate: robust least squares, then rate and shape together."""
    fitted = int(np.clip(len(times) // POINTS_PER_HARMONIC, 1, n_harmonics))
    coef, scale = _robust_fit(fourier_basis(rate * times, fitted), values)

    def residual(v: np.ndarray) -> np.ndarray:
        return fourier_basis(v[0] * times, fitted) @ v[1:] - values

    refined = optimize.least_squares(residual, np.concatenate([[rate], coef]), loss="soft_l1", f_scale=max(scale, 1e-6))
    coefficients = np.zeros(1 + 2 * n_harmonics)
    coefficients[: 1 + 2 * fitted] = refined.x[1:]
    return float(refined.x[0]), coefficients
