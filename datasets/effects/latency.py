"""Latency measured from the capture impulses (first clear onset after each impulse), and alignment by it."""

from __future__ import annotations

import numpy as np

from readdsp.core.errors import ReaDDSPError


def impulse_onsets(output: np.ndarray, impulse_positions: list[int], max_latency: int) -> list[int]:
    """Per impulse, the lag (samples) of the first output sample clearly above the background."""
    lags: list[int] = []
    for pos in impulse_positions:
        window = np.abs(output[pos : pos + max_latency + 1])
        if window.size == 0:
            continue
        background = float(np.max(np.abs(output[max(0, pos - 64) : pos]), initial=0.0))
        peak = float(window.max())
        if peak <= background + 1e-6:
            continue  # nothing came out for this impulse within the window
        threshold = background + 0.2 * (peak - background)
        lags.append(int(np.argmax(window > threshold)))
    return lags


def measure_latency(output: np.ndarray, impulse_positions: list[int], max_latency: int) -> tuple[int, list[int]]:
    """(median lag, per-impulse lags); 0 when no impulse produced a clear onset."""
    lags = impulse_onsets(output, impulse_positions, max_latency)
    return (int(np.median(lags)) if lags else 0), lags


def align(output: np.ndarray, latency: int, length: int, where: str | None = None) -> np.ndarray:
    """Shift the output earlier by `latency` samples, cut/pad to `length`; refuse short output."""
    if len(output) < length:
        problem = f"processed audio has {len(output)} samples, fewer than the input's {length} (mismatched lengths)"
        raise ReaDDSPError(problem, where)
    shifted = output[latency:]
    out = np.zeros(length, np.float32)
    out[: min(length, len(shifted))] = shifted[:length]
    return out
