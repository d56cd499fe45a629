"""A streaming causal FIR filter: the last len(taps)-1 inputs carried between calls."""

from __future__ import annotations

import numpy as np
from scipy import signal


def apply_fir(taps: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """Causal FIR filtering from rest, output the input's length (float32)."""
    audio = np.asarray(audio, np.float32)
    return signal.oaconvolve(audio, np.asarray(taps, np.float32))[: len(audio)].astype(np.float32)


class FirStream:
    """Filters consecutive blocks as one signal."""

    def __init__(self, taps: np.ndarray):
        self.taps = np.asarray(taps, np.float32)
        self.reset()

    def reset(self) -> None:
        self._history = np.zeros(len(self.taps) - 1, np.float32)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        n_history = len(self._history)
        joined = np.concatenate([self._history, np.asarray(audio, np.float32)])
        out = apply_fir(self.taps, joined)[n_history:]
        if n_history:
            self._history = joined[len(joined) - n_history :]
        return out
