"""Error-to-signal ratio, the effect-modelling field's accuracy measure."""

from __future__ import annotations

import numpy as np


def esr(prediction: np.ndarray, target: np.ndarray, skip: int = 0) -> float:
    """sum((target - prediction)^2) / sum(target^2), ignoring the first `skip` samples."""
    p = np.asarray(prediction, np.float64)[skip:]
    t = np.asarray(target, np.float64)[skip:]
    n = min(len(p), len(t))
    energy = float(np.sum(t[:n] ** 2))
    return float(np.sum((t[:n] - p[:n]) ** 2) / max(energy, 1e-20))
