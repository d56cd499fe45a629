"""A streaming fractional delay line with feedback (linear interpolation), the core of chorus and flanger."""

from __future__ import annotations

import numba
import numpy as np

#: Ring buffer length (samples): delays up to BUFFER - 3 samples (170 ms at 48 kHz).
BUFFER = 8192


@numba.njit(cache=True)
def _run(x, delays, feedback, buffer, n0, last, read_first):  # noqa: ANN001, ANN202
    mask = len(buffer) - 1
    wet = np.empty(len(x))
    for i in range(len(x)):
        n = n0 + i
        if not read_first:
            buffer[n & mask] = x[i] + feedback * last
        d = min(max(delays[i], 1.0 if read_first else 0.0), len(buffer) - 3.0)
        pos = n - d
        j = int(np.floor(pos))
        frac = pos - j
        a = buffer[j & mask]
        b = buffer[(j + 1) & mask] if frac > 0.0 else 0.0
        last = a + frac * (b - a)
        wet[i] = last
        if read_first:
            buffer[n & mask] = x[i] + feedback * last
    return wet, last


class DelayLine:
    """wet[n] = fed(n - delay[n]), fed[n] = x[n] + feedback * wet[n - 1]; state carried between calls.

    With `read_first` the line is read before it is written: fed[n] = x[n] + feedback * wet[n] (delays of at
    least one sample), the loop one sample shorter, as in many flangers. Samples before the first call read
    as silence (the line starts at rest).
    """

    def __init__(self, feedback: float, read_first: bool = False):
        self.feedback = float(feedback)
        self.read_first = bool(read_first)
        self.reset()

    def reset(self) -> None:
        self.buffer = np.zeros(BUFFER)
        self.n = 0
        self.last = 0.0

    def __call__(self, x: np.ndarray, delays_samples: np.ndarray) -> np.ndarray:
        wet, self.last = _run(np.asarray(x, np.float64), np.asarray(delays_samples, np.float64), self.feedback,
                              self.buffer, self.n, self.last, self.read_first)  # fmt: skip
        self.n += len(x)
        return wet
