"""A streaming causal FIR filter: the last len(taps)-1 inputs carried between calls."""

from __future__ import annotations

import numpy as np
from scipy import fft, signal


def apply_fir(taps: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """Causal FIR filtering from rest, output the input's length (float32)."""
    audio = np.asarray(audio, np.float32)
    return signal.oaconvolve(audio, np.asarray(taps, np.float32))[: len(audio)].astype(np.float32)


#: Long filters run as a partitioned convolution: the first PARTITION taps directly, the next ones in partitions
#: of PARTITION, and past LARGE_PARTITION taps in partitions of LARGE_PARTITION (fewer spectra to multiply).
PARTITION = 2048
LARGE_PARTITION = 16384


class _Fdl:
    """Taps [n, len) of `taps` as a uniformly partitioned frequency-domain delay line of block n: one FFT pair
    per n input samples; its share of the output is ready when a block completes (zero extra latency, as taps
    below n are someone else's)."""

    def __init__(self, taps: np.ndarray, n: int):
        self.n = n
        rest = np.asarray(taps[n:], np.float64)
        parts = np.zeros((-(-len(rest) // n), n))
        parts.flat[: len(rest)] = rest
        self.spectra = fft.rfft(parts, 2 * n, axis=1)
        self.reset()

    def reset(self) -> None:
        n = self.n
        self.delay_line = np.zeros_like(self.spectra)
        self.newest = 0  # row of delay_line holding the newest block (a ring: no copying)
        self.previous, self.current, self.fill = np.zeros(n), np.zeros(n), 0
        self.later = np.zeros(n)  # the partitions' share of the current block's output

    def __call__(self, audio: np.ndarray, out: np.ndarray) -> None:
        """Adds this delay line's share of the output for `audio` into `out`."""
        n = self.n
        done = 0
        while done < len(audio):
            take = min(n - self.fill, len(audio) - done)
            out[done : done + take] += self.later[self.fill : self.fill + take]
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


class _PartitionedFir:
    """Zero-latency partitioned convolution: the first PARTITION taps directly in time, the rest as one or
    two frequency-domain delay lines (Gardner's non-uniform scheme, two sizes)."""

    def __init__(self, taps: np.ndarray):
        n = PARTITION
        self.head = np.asarray(taps[:n], np.float64)
        self._head_spectra: dict[int, np.ndarray] = {}
        if len(taps) > 2 * LARGE_PARTITION:
            self.lines = [_Fdl(taps[:LARGE_PARTITION], n), _Fdl(taps, LARGE_PARTITION)]
        else:
            self.lines = [_Fdl(taps, n)]
        self.reset()

    def reset(self) -> None:
        for line in self.lines:
            line.reset()
        self.history = np.zeros(PARTITION - 1)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        audio = np.asarray(audio, np.float64)
        joined = np.concatenate([self.history, audio])
        if len(audio) < 256:
            out = signal.oaconvolve(joined, self.head, mode="valid")
        else:  # overlap-save with the head's spectrum cached per FFT size (a plugin's block size repeats)
            nfft = fft.next_fast_len(len(joined), real=True)
            if nfft not in self._head_spectra:
                self._head_spectra[nfft] = fft.rfft(self.head, nfft)
            out = fft.irfft(fft.rfft(joined, nfft) * self._head_spectra[nfft], nfft)[PARTITION - 1 : len(joined)]
        self.history = joined[len(joined) - (PARTITION - 1) :]
        for line in self.lines:
            line(audio, out)
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
