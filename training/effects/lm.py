"""Levenberg-Marquardt with finite-difference Jacobians, a time cap and box bounds, for small grey boxes."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def levenberg_marquardt(
    residual: Callable[[np.ndarray], np.ndarray],
    theta: np.ndarray,
    steps: np.ndarray,
    max_seconds: float,
    max_iterations: int = 40,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
) -> np.ndarray:
    """Minimise ||residual(theta)||^2 from `theta`; `steps` are the forward-difference steps per parameter.

    Each column of J costs one evaluation of the model, so this suits models of up to a few dozen parameters
    whose simulation is fast (numba). Stops at the time cap, after `max_iterations`, or when a step gains
    less than 1e-7 of the error.
    """
    deadline = time.monotonic() + max_seconds
    theta = np.asarray(theta, np.float64).copy()
    lower = np.full_like(theta, -np.inf) if lower is None else np.asarray(lower, np.float64)
    upper = np.full_like(theta, np.inf) if upper is None else np.asarray(upper, np.float64)
    r = residual(theta)
    error = float(r @ r)
    damping = 1e-3
    for _ in range(max_iterations):
        if time.monotonic() > deadline:
            break
        jac = np.empty((len(r), len(theta)), np.float32)
        for k, step in enumerate(steps):
            if time.monotonic() > deadline:
                return theta  # a Jacobian costs one model run per parameter: stop mid-way rather than overrun
            probe = theta.copy()
            probe[k] = probe[k] + step if probe[k] + step <= upper[k] else probe[k] - step
            jac[:, k] = (residual(probe) - r) / (probe[k] - theta[k])
        normal = (jac.T @ jac).astype(np.float64)
        gradient = (jac.T @ r).astype(np.float64)
        diag = np.maximum(np.diag(normal), 1e-12 * max(float(np.max(np.diag(normal))), 1e-30))
        improved = False
        for _ in range(8):
            try:
                delta = np.linalg.solve(normal + damping * np.diag(diag), -gradient)
            except np.linalg.LinAlgError:
                damping *= 10
                continue
            trial = np.clip(theta + delta, lower, upper)
            r_trial = residual(trial)
            trial_error = float(r_trial @ r_trial)
            if np.isfinite(trial_error) and trial_error < error:
                gain = error - trial_error
                theta, r, error = trial, r_trial, trial_error
                damping = max(damping / 3, 1e-9)
                improved = gain > 1e-7 * error
                break
            damping *= 4
            if time.monotonic() > deadline:
                break
        if not improved:
            break
    return theta
