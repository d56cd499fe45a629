"""A streaming causal FIR filter: the last len(taps)-1 inputs carried between calls."""

from __future__ import annotations

import numpy as np
from scipy import fft, signal


def apply_fir(taps: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """Causal FIR filtering from rest, output the input's length (float32)."""
    audio = np.asarray(audio, np.float32)
    return signal.oaconvolve(audio, np.asarray(taps, np.float32))[: len(audio)].astype(np.float32)


class FirStream:
    """Filters consecutive blocks as one signal (overlap-save: one FFT pair per block, the taps' spectrum
    cached per FFT size)."""

    def __init__(self, taps: np.ndarray):
        self.taps = np.asarray(taps, np.float32)
        self._spectra: dict[int, np.ndarray] = {}
        self.reset()

    def reset(self) -> None:
        self._history = np.zeros(len(self.taps) - 1, np.float32)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        n_history = len(self._history)
        joined = np.concatenate([self._history, np.asarray(audio, np.float32)])
        if n_history < 64:
            out = apply_fir(self.taps, joined)[n_history:]
        else:
            nfft = fft.next_fast_len(len(joined), real=True)
            if nfft not in self._spectra:
                self._spectra[nfft] = fft.rfft(self.taps, nfft)
            # circular convolution of length nfft >= len(joined): only the first n_history outputs wrap
            out = fft.irfft(fft.rfft(joined, nfft) * self._spectra[nfft], nfft)[n_history : len(joined)]
            out = out.astype(np.float32)
        if n_history:
            self._history = joined[len(joined) - n_history :]
        return out
