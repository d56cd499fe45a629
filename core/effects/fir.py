"""The learned-FIR effect model (exact for linear time-invariant effects: delay, reverb, cab, filters)."""

from __future__ import annotations

from typing import Any

import numpy as np

from readdsp.core.effects.base import EffectModel, vector
from readdsp.core.effects.fir_stream import FirStream


class FirModel(EffectModel):
    """out = taps * audio."""

    kind = "fir"

    def __init__(self, sample_rate: int, taps: np.ndarray):
        super().__init__(sample_rate)
        self.taps = np.asarray(taps, np.float32)
        self._fir = FirStream(self.taps)

    def _process(self, audio: np.ndarray) -> np.ndarray:
        return self._fir(audio)

    def reset(self) -> None:
        self._fir.reset()

    def arrays(self) -> dict[str, np.ndarray]:
        return {"fir": self.taps}

    @classmethod
    def from_arrays(cls, sample_rate: int, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> FirModel:
        return cls(sample_rate, vector(arrays, "fir"))
