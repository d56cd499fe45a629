"""Fit the Wiener-Hammerstein model (pre-FIR, waveshaper, post-FIR): joint Levenberg-Marquardt steps."""

from __future__ import annotations

import time

import numpy as np
from scipy import fft

from readdsp.core.effects.fir_stream import apply_fir
from readdsp.core.effects.wiener_hammerstein import apply_wiener_hammerstein
from readdsp.training.effects.shaper_fit import SHAPER_FIT_SECONDS, fit_shaper_fir

#: Conjugate-gradient iterations per Gauss-Newton step.
CG_ITERATIONS = 60
#: Levenberg-Marquardt damping, relative to the diagonal of J^T J.
DAMPING = 1e-6
#: Share of the time budget for the first (pre = identity) Hammerstein fit.
HAMMERSTEIN_SHARE = 0.4


class _JointProblem:
    """Residual and Jacobian products of ||y - post * f(pre * x)||^2 in (pre, curve values, post) jointly.

    The curve is piecewise linear through fixed knots, extended linearly past the end knots, so its output is
    linear in the values: f(u) = (1 - frac) v[left] + frac v[left + 1].
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, knots: np.ndarray, pre_length: int, post_length: int):
        self.n, self.y, self.knots = len(x), y, knots
        self.sizes = (pre_length, len(knots), post_length)
        self.nfft = fft.next_fast_len(len(x) + max(pre_length, post_length), real=True)
        self.spec_x = fft.rfft(x, self.nfft)

    def _conv(self, spec: np.ndarray, a: np.ndarray) -> np.ndarray:
        return fft.irfft(spec * fft.rfft(a, self.nfft), self.nfft)[: self.n]

    def _corr(self, spec: np.ndarray, a: np.ndarray, length: int) -> np.ndarray:
        return fft.irfft(np.conj(spec) * fft.rfft(a, self.nfft), self.nfft)[:length]

    def linearise(self, pre: np.ndarray, values: np.ndarray, post: np.ndarray) -> np.ndarray:
        """Set the operating point; returns the residual y - model."""
        k = self.knots
        u = self._conv(self.spec_x, pre)
        self.left = np.clip(np.searchsorted(k, u, side="right") - 1, 0, len(k) - 2)
        self.frac = (u - k[self.left]) / (k[self.left + 1] - k[self.left])
        # the tangent uses the slope interpolated between segment midpoints: a piecewise-constant slope jumps
        # at every knot, which makes the linear model good only within a segment
        slopes = np.diff(values) / np.diff(k)
        self.slope = np.interp(u, 0.5 * (k[:-1] + k[1:]), slopes)
        self.shaped = self._curve(values)
        self.spec_post = fft.rfft(post, self.nfft)
        self.spec_shaped = fft.rfft(self.shaped, self.nfft)
        return self.y - self._conv(self.spec_post, self.shaped)

    def _curve(self, values: np.ndarray) -> np.ndarray:
        return (1.0 - self.frac) * values[self.left] + self.frac * values[self.left + 1]

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p, k, _ = self.sizes
        return theta[:p], theta[p : p + k], theta[p + k :]

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        d_pre, d_values, d_post = self.split(theta)
        inner = self.slope * self._conv(self.spec_x, d_pre) + self._curve(d_values)
        return self._conv(self.spec_post, inner) + self._conv(self.spec_shaped, d_post)

    def jacobian_t(self, w: np.ndarray) -> np.ndarray:
        pre_length, n_knots, post_length = self.sizes
        g = self._corr(self.spec_post, w, self.n)
        d_values = np.bincount(self.left, (1.0 - self.frac) * g, n_knots)
        d_values += np.bincount(self.left + 1, self.frac * g, n_knots)
        return np.concatenate(
            [
                self._corr(self.spec_x, self.slope * g, pre_length),
                d_values,
                self._corr(self.spec_shaped, w, post_length),
            ]
        )

    def diagonal(self, post: np.ndarray) -> np.ndarray:
        """diag(J^T J): exact for the first pre tap and the post taps, approximate for the curve."""
        pre_length, n_knots, post_length = self.sizes
        probe = np.zeros(sum(self.sizes))
        probe[0] = 1.0
        column = self.jacobian(probe)
        knot_energy = np.bincount(self.left, (1.0 - self.frac) ** 2, n_knots)
        knot_energy += np.bincount(self.left + 1, self.frac**2, n_knots)
        diag = np.concatenate(
            [
                np.full(pre_length, column @ column),
                knot_energy * float(post @ post),
                np.full(post_length, self.shaped @ self.shaped),
            ]
        )
        return np.maximum(diag, 1e-9 * float(diag.max()))


def gauss_newton_step(problem: _JointProblem, theta: np.ndarray) -> tuple[np.ndarray, float, float]:
    """One Levenberg-Marquardt step (Jacobi-preconditioned CG) with a halving line search.

    Returns (theta, error before, error after).
    """
    pre, values, post = problem.split(theta)
    residual = problem.linearise(pre, values, post)
    error = float(residual @ residual)
    diag = problem.diagonal(post)
    rhs = problem.jacobian_t(residual)
    step = np.zeros_like(theta)
    r = rhs.copy()
    z = r / diag
    direction = z.copy()
    rz = float(r @ z)
    for _ in range(CG_ITERATIONS):
        jd = problem.jacobian(direction)
        ad = problem.jacobian_t(jd) + DAMPING * diag * direction
        alpha = rz / float(direction @ ad)
        step += alpha * direction
        r -= alpha * ad
        z = r / diag
        rz_new = float(r @ z)
        if rz_new <= 1e-20 * float(rhs @ (rhs / diag)):
            break
        direction = z + (rz_new / rz) * direction
        rz = rz_new
    for scale in (1.0, 0.5, 0.25, 0.125):
        trial = theta + scale * step
        trial_residual = problem.linearise(*problem.split(trial))
        trial_error = float(trial_residual @ trial_residual)
        if trial_error < error:
            return trial, error, trial_error
    return theta, error, error


def fit_wiener_hammerstein(
    x: np.ndarray,
    y: np.ndarray,
    sr: int,
    pre_length: int,
    post_length: int,
    max_steps: int = 30,
    max_seconds: float = 300.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pre, knots, values, post) minimising ||post * shaper(pre * x) - y||^2.

    Starts from the Hammerstein fit (pre = identity), then takes Levenberg-Marquardt steps on all three parts
    jointly on the first SHAPER_FIT_SECONDS, then refits the curve and a full-data post-FIR by least squares.
    The result is kept only if it lowers the error on the whole of x, so the model is never worse than the
    Hammerstein one on the training data.
    """
    start = time.monotonic()
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    pre = np.zeros(pre_length)
    pre[0] = 1.0
    knots, values, post = fit_shaper_fir(x, y, sr, post_length, max_seconds=HAMMERSTEIN_SHARE * max_seconds)
    hammerstein = (pre.astype(np.float32), knots, values, post)
    part = slice(0, int(SHAPER_FIT_SECONDS * sr))
    problem = _JointProblem(x[part], y[part], knots.astype(np.float64), pre_length, post_length)
    theta = np.concatenate([pre, values, post]).astype(np.float64)
    refit_seconds = 0.3 * (1.0 - HAMMERSTEIN_SHARE) * max_seconds
    for _ in range(max_steps):
        if time.monotonic() - start > max_seconds - refit_seconds:
            break
        theta, before, after = gauss_newton_step(problem, theta)
        if after > (1.0 - 1e-4) * before:
            break
    pre, values, post = problem.split(theta)
    pre = pre / (float(np.max(np.abs(pre))) or 1.0)  # the pre-FIR's peak at 1; the refit curve absorbs its gain
    left = max(1.0, max_seconds - (time.monotonic() - start))
    knots, values, post = fit_shaper_fir(apply_fir(pre, x), y, sr, post_length, 1, left, post)
    candidate = (pre.astype(np.float32), knots, values, post)
    return min((candidate, hammerstein), key=lambda model: _error(x, y, *model))


def _error(x: np.ndarray, y: np.ndarray, *model: np.ndarray) -> float:
    residual = y - apply_wiener_hammerstein(*model, x)
    return float(residual @ residual)
