"""A streaming causal FIR filter: the last len(taps)-1 inputs carried between calls."""

from __future__ import annotations

import numpy as np
from scipy import fft, signal


def apply_fir(taps: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """Causal FIR filtering from rest, output the input's length (float32)."""
    audio = np.asarray(audio, np.float32)
    return signal.oaconvolve(audio, np.asarray(taps, np.float32))[: len(audio)].astype(np.float32)


#: Long filters run as a uniformly partitioned convolution with partitions of this many taps.
PARTITION = 2048


class _PartitionedFir:
    """Zero-latency uniformly partitioned convolution: the first partition directly in time, the others as a
    frequency-domain delay line of the past complete blocks (one FFT pair per PARTITION input samples)."""

    def __init__(self, taps: np.ndarray):
        n = PARTITION
        self.head = np.asarray(taps[:n], np.float64)
        rest = np.asarray(taps[n:], np.float64)
        parts = np.zeros((-(-len(rest) // n), n))
        parts.flat[: len(rest)] = rest
        self.spectra = fft.rfft(parts, 2 * n, axis=1)
        self.reset()

    def reset(self) -> None:
        n = PARTITION
        self.delay_line = np.zeros_like(self.spectra)
        self.newest = 0  # row of delay_line holding the newest block (a ring: no copying)
        self.previous, self.current, self.fill = np.zeros(n), np.zeros(n), 0
        self.later = np.zeros(n)  # the other partitions' share of the current block's output
        self.history = np.zeros(n - 1)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        n = PARTITION
        audio = np.asarray(audio, np.float64)
        joined = np.concatenate([self.history, audio])
        direct = signal.oaconvolve(joined, self.head, mode="valid")
        self.history = joined[len(joined) - (n - 1) :]
        out = np.empty(len(audio))
        done = 0
        while done < len(audio):
            take = min(n - self.fill, len(audio) - done)
            out[done : done + take] = direct[done : done + take] + self.later[self.fill : self.fill + take]
            self.current[self.fill : self.fill + take] = audio[done : done + take]
            self.fill += take
            done += take
            if self.fill == n:
                self.newest = (self.newest - 1) % len(self.delay_line)
                self.delay_line[self.newest] = fft.rfft(np.concatenate([self.previous, self.current]))
                self.previous, self.current, self.fill = self.current, np.zeros(n), 0
                k = len(self.delay_line) - self.newest  # spectra[m] pairs with delay_line[(newest + m) % M]
                mixed = np.einsum("ij,ij->j", self.spectra[:k], self.delay_line[self.newest :])
                mixed += np.einsum("ij,ij->j", self.spectra[k:], self.delay_line[: self.newest])
                self.later = fft.irfft(mixed, 2 * n)[n:]
        return out.astype(np.float32)


class FirStream:
    """Filters consecutive blocks as one signal (overlap-save: one FFT pair per block, the taps' spectrum
    cached per FFT size)."""

    def __init__(self, taps: np.ndarray):
        self.taps = np.asarray(taps, np.float32)
        self._spectra: dict[int, np.ndarray] = {}
        self._partitioned = _PartitionedFir(self.taps) if len(self.taps) > 4 * PARTITION else None
        self.reset()

    def reset(self) -> None:
        self._history = np.zeros(len(self.taps) - 1, np.float32)
        if self._partitioned is not None:
            self._partitioned.reset()

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        if self._partitioned is not None:
            return self._partitioned(audio)
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
