"""A periodic LFO of any shape: a Fourier series in the phase, evaluated through a table."""

from __future__ import annotations

import numpy as np

TABLE_SIZE = 4096


def fourier_basis(phase_cycles: np.ndarray, n_harmonics: int) -> np.ndarray:
    """[len(phase), 1 + 2K] columns 1, cos(2 pi k p), sin(2 pi k p) for k = 1..K."""
    p = 2 * np.pi * np.asarray(phase_cycles, np.float64)[:, None] * np.arange(1, n_harmonics + 1)
    columns = np.empty((p.shape[0], 1 + 2 * n_harmonics))
    columns[:, 0] = 1.0
    columns[:, 1::2] = np.cos(p)
    columns[:, 2::2] = np.sin(p)
    return columns


class Lfo:
    """value(n) = c0 + sum_k a_k cos(2 pi k rate n / sr) + b_k sin(2 pi k rate n / sr), at output sample n.

    `coefficients` = [c0, a1, b1, ..., aK, bK]; the phase starts at 0 at the first sample after a reset. The
    shape is whatever the coefficients make: a sine is the K = 1 case, a triangle needs its odd harmonics.
    """

    def __init__(self, rate_hz: float, coefficients: np.ndarray, sample_rate: int):
        self.rate_hz = float(rate_hz)
        self.coefficients = np.asarray(coefficients, np.float64)
        self.sample_rate = int(sample_rate)
        n_harmonics = (len(self.coefficients) - 1) // 2
        grid = np.arange(TABLE_SIZE + 1) / TABLE_SIZE
        self.table = fourier_basis(grid, n_harmonics) @ self.coefficients

    def phase_cycles(self, n0: int, n: int) -> np.ndarray:
        """Phase in cycles [0, 1) of samples n0 .. n0 + n - 1."""
        return np.mod(self.rate_hz / self.sample_rate * np.arange(n0, n0 + n, dtype=np.float64), 1.0)

    def values(self, n0: int, n: int) -> np.ndarray:
        """The LFO at samples n0 .. n0 + n - 1 (linear interpolation in the table)."""
        index = self.phase_cycles(n0, n) * TABLE_SIZE
        whole = np.minimum(index.astype(np.int64), TABLE_SIZE - 1)
        frac = index - whole
        return self.table[whole] + frac * (self.table[whole + 1] - self.table[whole])

    def one_period(self, n_points: int = 512) -> np.ndarray:
        """The shape over one period, for plots."""
        n_harmonics = (len(self.coefficients) - 1) // 2
        return fourier_basis(np.arange(n_points) / n_points, n_harmonics) @ self.coefficients
