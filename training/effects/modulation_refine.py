"""Refine a modulated-delay model on the audio with analytic Jacobians (one model run per iteration).

The wet path reads the line at n - D(n), D(n) = sum_j c_j B_j(phase(n)) (the LFO's Fourier basis), so
d wet(n) / d c_j = -slope(n) * B_j(n), with slope(n) the interpolated line's slope at the read position (the
feedback path's own dependence on c is left out: a Gauss-Newton approximation that the step acceptance
guards). Rate and feedback get forward differences (one run each), dry and wet are columns x and wet(n).
Finite differences over every coefficient needed one model run per harmonic coefficient per iteration.
"""

from __future__ import annotations

import time

import numba
import numpy as np

from readdsp.core.effects.delay_line import BUFFER
from readdsp.core.effects.lfo import Lfo, fourier_basis
from readdsp.training.effects.grey_box import mix

#: Rows of the Jacobian used per iteration (every k-th sample): bounds J'J's cost.
MAX_ROWS = 300_000
CHUNK = 32_768


@numba.njit(cache=True)
def _run_with_slope(x, delays, feedback, read_first):  # noqa: ANN001, ANN202
    """The DelayLine's output from rest, and d output / d delay (per sample of delay)."""
    buffer = np.zeros(BUFFER)
    mask = BUFFER - 1
    wet = np.empty(len(x))
    slope = np.empty(len(x))
    last = 0.0
    for n in range(len(x)):
        if not read_first:
            buffer[n & mask] = x[n] + feedback * last
        d = min(max(delays[n], 1.0 if read_first else 0.0), BUFFER - 3.0)
        pos = n - d
        j = int(np.floor(pos))
        frac = pos - j
        a = buffer[j & mask]
        b = buffer[(j + 1) & mask]
        if not (frac > 0.0) and read_first and d < 1.0 + 1e-12:
            b = a
        last = a + frac * (b - a)
        wet[n] = last
        slope[n] = -(b - a)
        if read_first:
            buffer[n & mask] = x[n] + feedback * last
    return wet, slope


def _delays(rate: float, coef: np.ndarray, sr: int, n: int) -> np.ndarray:
    return Lfo(rate, coef, sr).values(0, n) * (sr / 1000.0)


def _error(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    dry, wet = mix(x, w, y)
    r = dry * x + wet * w - y
    return float(r @ r)


def refine_on_audio(
    x: np.ndarray,
    y: np.ndarray,
    sr: int,
    rate: float,
    coef: np.ndarray,
    feedback: float,
    read_first: bool,
    max_seconds: float,
    feedback_limit: float = 0.95,
    max_iterations: int = 200,
) -> tuple[float, np.ndarray, float]:
    """(rate, coefficients, feedback) after damped Gauss-Newton on ||dry x + wet w - y||^2."""
    deadline = time.monotonic() + max_seconds
    n = len(x)
    n_harmonics = (len(coef) - 1) // 2
    step = max(1, int(np.ceil(n / MAX_ROWS)))
    rows = np.arange(0, n, step)
    theta = np.concatenate([[rate], coef, [feedback]]).astype(np.float64)

    def run(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _run_with_slope(x, _delays(v[0], v[1:-1], sr, n), float(v[-1]), read_first)

    w, slope = run(theta)
    error = _error(x, y, w)
    damping = 1e-3
    for _ in range(max_iterations):
        if time.monotonic() > deadline:
            break
        dry, wet = mix(x, w, y)
        r = (dry * x + wet * w - y)[rows]
        # columns: rate, coefficients..., feedback, dry, wet
        k = len(theta) + 2
        normal = np.zeros((k, k))
        gradient = np.zeros(k)
        d_rate = 1e-6 * max(theta[0], 1e-3)
        probe = theta.copy()
        probe[0] += d_rate
        col_rate = wet * (run(probe)[0] - w)[rows] / d_rate
        d_fb = 1e-3 if theta[-1] + 1e-3 < feedback_limit else -1e-3
        probe = theta.copy()
        probe[-1] += d_fb
        col_fb = wet * (run(probe)[0] - w)[rows] / d_fb
        g = wet * slope[rows] * (sr / 1000.0)
        phase = theta[0] * rows / sr
        for s in range(0, len(rows), CHUNK):
            e = min(len(rows), s + CHUNK)
            jac = np.empty((e - s, k))
            jac[:, 0] = col_rate[s:e]
            jac[:, 1 : k - 3] = fourier_basis(phase[s:e], n_harmonics) * g[s:e, None]
            jac[:, k - 3] = col_fb[s:e]
            jac[:, k - 2] = x[rows[s:e]]
            jac[:, k - 1] = w[rows[s:e]]
            normal += jac.T @ jac
            gradient += jac.T @ r[s:e]
        diag = np.maximum(np.diag(normal), 1e-12 * max(float(np.max(np.diag(normal))), 1e-30))
        improved = False
        for _ in range(8):
            if time.monotonic() > deadline:
                break
            try:
                delta = np.linalg.solve(normal + damping * np.diag(diag), -gradient)[: len(theta)]
            except np.linalg.LinAlgError:
                damping *= 10
                continue
            trial = theta + delta
            trial[0] = max(trial[0], 1e-3)
            trial[-1] = float(np.clip(trial[-1], -feedback_limit, feedback_limit))
            w_trial, slope_trial = run(trial)
            trial_error = _error(x, y, w_trial)
            if np.isfinite(trial_error) and trial_error < error:
                improved = error - trial_error > 1e-6 * error
                theta, w, slope, error = trial, w_trial, slope_trial, trial_error
                damping = max(damping / 3, 1e-9)
                break
            damping *= 4
        if not improved:
            break
    return float(theta[0]), theta[1:-1], float(theta[-1])
