"""Sample-rate conversion in one place: soxr (the SoX resampler), high quality, float32 in and out."""

from __future__ import annotations

import numpy as np
import soxr


def resample(audio: np.ndarray, source_rate: float, target_rate: float) -> np.ndarray:
    """Mono audio from `source_rate` to `target_rate` (a float32 copy when the rates are equal; rates may be
    fractional, as a REAPER item's play rate makes them)."""
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if source_rate == target_rate or len(audio) == 0:
        return audio.copy()
    return soxr.resample(audio, source_rate, target_rate, quality="HQ").astype(np.float32, copy=False)


def fit_length(audio: np.ndarray, length: int) -> np.ndarray:
    """Cut to `length` samples, or pad with zeros up to it."""
    return audio[:length] if len(audio) >= length else np.pad(audio, (0, length - len(audio)))
