"""The Hammerstein effect model: a static piecewise-linear waveshaper, then a learned FIR."""

from __future__ import annotations

from typing import Any

import numpy as np

from readdsp.core.effects.base import EffectModel, require, vector
from readdsp.core.effects.fir_stream import FirStream


def apply_shaper(knots: np.ndarray, values: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """Piecewise-linear curve through (knots, values), extended linearly past the end knots."""
    x = np.asarray(audio, np.float64)
    out = np.interp(x, knots, values)
    lo_slope = (values[1] - values[0]) / (knots[1] - knots[0])
    hi_slope = (values[-1] - values[-2]) / (knots[-1] - knots[-2])
    out = np.where(x < knots[0], values[0] + lo_slope * (x - knots[0]), out)
    out = np.where(x > knots[-1], values[-1] + hi_slope * (x - knots[-1]), out)
    return out.astype(np.float32)


def curve_arrays(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(knots, values) from a file, checked: same length >= 2, knots strictly increasing."""
    knots, values = vector(arrays, "knots", 2), vector(arrays, "values", 2)
    require(len(knots) == len(values), "knots and values differ in length")
    require(bool(np.all(np.diff(knots) > 0)), "knots must increase strictly")
    return knots, values


class ShaperModel(EffectModel):
    """out = fir * curve(audio)."""

    kind = "shaper"

    def __init__(self, sample_rate: int, knots: np.ndarray, values: np.ndarray, taps: np.ndarray):
        super().__init__(sample_rate)
        self.knots, self.values = np.asarray(knots, np.float32), np.asarray(values, np.float32)
        self._fir = FirStream(taps)

    def _process(self, audio: np.ndarray) -> np.ndarray:
        return self._fir(apply_shaper(self.knots, self.values, audio))

    def reset(self) -> None:
        self._fir.reset()

    def arrays(self) -> dict[str, np.ndarray]:
        return {"knots": self.knots, "values": self.values, "fir": self._fir.taps}

    @classmethod
    def from_arrays(cls, sample_rate: int, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> ShaperModel:
        return cls(sample_rate, *curve_arrays(arrays), vector(arrays, "fir"))
