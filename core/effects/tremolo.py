"""The tremolo model: the input times a learned-shape periodic gain."""

from __future__ import annotations

from typing import Any

import numpy as np

from readdsp.core.effects.base import EffectModel, require, vector
from readdsp.core.effects.lfo import Lfo
from readdsp.core.effects.modulation import checked_scalars


class TremoloModel(EffectModel):
    """out[n] = lfo(n) * x[n]; the LFO is the gain itself (any shape, any sign)."""

    kind = "tremolo"

    def __init__(self, sample_rate: int, lfo: Lfo):
        super().__init__(sample_rate)
        self.lfo = lfo
        self._n = 0

    def _process(self, audio: np.ndarray) -> np.ndarray:
        gain = self.lfo.values(self._n, len(audio))
        self._n += len(audio)
        return gain * audio

    def reset(self) -> None:
        self._n = 0

    def arrays(self) -> dict[str, np.ndarray]:
        return {"lfo_gain": self.lfo.coefficients}

    def config(self) -> dict[str, Any]:
        return {"rate_hz": self.lfo.rate_hz}

    @classmethod
    def from_arrays(cls, sample_rate: int, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> TremoloModel:
        (rate,) = checked_scalars(config, ("rate_hz",))
        require(0 < rate <= 50, f"rate_hz {rate} outside (0, 50]")
        lfo = Lfo(rate, vector(arrays, "lfo_gain"), sample_rate)
        require(float(np.max(np.abs(lfo.table))) <= 100.0, "the LFO's gain exceeds 40 dB")
        return cls(sample_rate, lfo)
