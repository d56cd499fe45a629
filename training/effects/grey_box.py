"""What every grey-box fit shares: the fit's error type, span doubling, and the closed-form dry/wet mix."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from readdsp.training.effects.lm import levenberg_marquardt

#: Fit spans (seconds from the split's start): the LFO restarts per split, so it must stay in step for one
#: split; short spans first get the phase right cheaply, long ones pin the rate.
SPANS_SECONDS = (12.0, 24.0, 48.0)
#: Past this many samples the residual keeps every second sample (bounds the Jacobian's memory).
MAX_RESIDUAL = 1_200_000


class FitFailed(Exception):
    """A model family does not apply to this data (e.g. no delayed copy of the input): the reason says why."""


def mix(x: np.ndarray, w: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares (dry, wet) with y ~ dry * x + wet * w (2x2 normal equations)."""
    xx, xw, ww, xy, wy = x @ x, x @ w, w @ w, x @ y, w @ y
    det = xx * ww - xw * xw
    if det <= 1e-12 * max(xx * ww, 1e-30):
        return float(xy / max(xx, 1e-30)), 0.0
    return float((ww * xy - xw * wy) / det), float((xx * wy - xw * xy) / det)


def fit_over_spans(
    residual_for: Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]],
    x: np.ndarray,
    y: np.ndarray,
    sr: int,
    theta: np.ndarray,
    steps_for: Callable[[float], np.ndarray],
    max_seconds: float,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
) -> np.ndarray:
    """Levenberg-Marquardt on growing spans of (x, y); `residual_for(xs, ys)` builds the span's residual.

    The time budget is shared out in proportion to each span's length.
    """
    start = time.monotonic()
    spans = [s for s in SPANS_SECONDS if s * sr < len(x)] + [len(x) / sr]
    weights = np.asarray(spans) / sum(spans)
    for span, weight in zip(spans, weights, strict=True):
        n = int(span * sr)
        left = max_seconds - (time.monotonic() - start)
        if left <= 0:
            break
        step = 2 if n > MAX_RESIDUAL else 1
        full = residual_for(x[:n], y[:n])
        theta = levenberg_marquardt(
            lambda v, full=full, step=step: full(v)[::step], theta, steps_for(span),
            max_seconds=max(weight * max_seconds, min(left, 5.0)), lower=lower, upper=upper,
        )  # fmt: skip
    return theta


def with_harmonics(theta: np.ndarray, n_harmonics: int, n_extra: int) -> np.ndarray:
    """theta = [rate, c0, a1, b1, ..., extras] padded (with zero harmonics) to n_harmonics."""
    rate, coefficients, extra = theta[:1], theta[1 : len(theta) - n_extra], theta[len(theta) - n_extra :]
    padded = np.zeros(1 + 2 * n_harmonics)
    padded[: min(len(coefficients), len(padded))] = coefficients[: len(padded)]
    return np.concatenate([rate, padded, extra])


def fit_lfo_over_spans(
    residual_for: Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]],
    x: np.ndarray,
    y: np.ndarray,
    sr: int,
    theta: np.ndarray,
    harmonics: tuple[int, ...],
    max_seconds: float,
    coefficient_step: float,
    feedback_limit: float | None,
) -> np.ndarray:
    """LM on theta = [rate, LFO Fourier coefficients, (feedback)], the LFO gaining harmonics as the span grows.

    Stage i fits harmonics[i] harmonics on SPANS_SECONDS[i] (the last stage on the whole signal)."""
    start = time.monotonic()
    n_extra = 0 if feedback_limit is None else 1
    spans = [s for s in SPANS_SECONDS if s * sr < len(x)][: len(harmonics) - 1] + [len(x) / sr]
    weights = np.asarray(spans) / sum(spans)
    for stage, (span, weight) in enumerate(zip(spans, weights, strict=True)):
        theta = with_harmonics(theta, harmonics[min(stage, len(harmonics) - 1)], n_extra)
        n_coefficients = len(theta) - 1 - n_extra
        n = int(span * sr)
        left = max_seconds - (time.monotonic() - start)
        if left <= 0:
            break
        step = max(1, int(np.ceil(n * len(theta) / (MAX_RESIDUAL * 16))))
        full = residual_for(x[:n], y[:n])
        limit = [feedback_limit] if feedback_limit is not None else []
        extra_steps, extra_lower, extra_upper = [1e-3] * n_extra, [-v for v in limit], limit
        theta = levenberg_marquardt(
            lambda v, full=full, step=step: full(v)[::step],
            theta,
            np.concatenate([[1e-3 / span], np.full(n_coefficients, coefficient_step), extra_steps]),
            max_seconds=max(weight * max_seconds, min(left, 5.0)),
            lower=np.concatenate([[1e-3], np.full(n_coefficients, -np.inf), extra_lower]),
            upper=np.concatenate([[50.0], np.full(n_coefficients, np.inf), extra_upper]),
        )
    return theta
