"""The phaser model: cascaded first-order all-passes whose break frequency follows a learned-shape LFO."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from readdsp.core.effects.base import EffectModel, require, vector
from readdsp.core.effects.lfo import Lfo
from readdsp.core.effects.modulation import checked_scalars

MAX_STAGES = 24


@numba.njit(cache=True)
def _phaser(x, log2_hz, feedback, sample_rate, states, last):  # noqa: ANN001, ANN202
    out = np.empty(len(x))
    for i in range(len(x)):
        hz = min(max(2.0 ** log2_hz[i], 1.0), 0.49 * sample_rate)
        t = np.tan(np.pi * hz / sample_rate)
        a = (t - 1.0) / (t + 1.0)
        u = x[i] + feedback * last
        for s in range(len(states)):
            y = a * u + states[s]  # H(z) = (a + z^-1) / (1 + a z^-1): -90 degrees at `hz`
            states[s] = u - a * y
            u = y
        last = u
        out[i] = u
    return out, last


class PhaserModel(EffectModel):
    """out = dry * x + wet * A^N(x + feedback * last chain output); log2 of A's break frequency = lfo(n)."""

    kind = "phaser"

    def __init__(self, sample_rate: int, lfo: Lfo, n_stages: int, feedback: float, dry: float, wet: float):
        super().__init__(sample_rate)
        self.lfo, self.n_stages = lfo, int(n_stages)
        self.feedback, self.dry, self.wet = float(feedback), float(dry), float(wet)
        self.reset()

    def reset(self) -> None:
        self._states = np.zeros(self.n_stages)
        self._last = 0.0
        self._n = 0

    def chain(self, audio: np.ndarray) -> np.ndarray:
        """The all-pass chain's output (before the mix), continuing the state."""
        log2_hz = self.lfo.values(self._n, len(audio))
        self._n += len(audio)
        out, self._last = _phaser(audio, log2_hz, self.feedback, float(self.sample_rate), self._states, self._last)
        return out

    def _process(self, audio: np.ndarray) -> np.ndarray:
        return self.dry * audio + self.wet * self.chain(audio)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"lfo_log2_hz": self.lfo.coefficients}

    def config(self) -> dict[str, Any]:
        return {"rate_hz": self.lfo.rate_hz, "n_stages": self.n_stages, "feedback": self.feedback,
                "dry": self.dry, "wet": self.wet}  # fmt: skip

    @classmethod
    def from_arrays(cls, sample_rate: int, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> PhaserModel:
        rate, stages, feedback, dry, wet = checked_scalars(config, ("rate_hz", "n_stages", "feedback", "dry", "wet"))
        require(0 < rate <= 50, f"rate_hz {rate} outside (0, 50]")
        require(stages == int(stages) and 1 <= stages <= MAX_STAGES, f"n_stages {stages} not in 1..{MAX_STAGES}")
        require(abs(feedback) < 1, f"feedback {feedback} must be inside (-1, 1)")
        return cls(sample_rate, Lfo(rate, vector(arrays, "lfo_log2_hz"), sample_rate), int(stages), feedback, dry, wet)
