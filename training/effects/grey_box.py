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
