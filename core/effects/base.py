"""The effect-model contract (after pedalboard): `process(audio, sample_rate)` streams, `reset()` rests."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from readdsp.core.errors import ReaDDSPError


class EffectModel(ABC):
    """A mono effect at one sample rate.

    `process` continues from the model's current state, so a signal processed block by block equals the same
    signal processed in one call; `reset()` returns to rest (empty delay lines, LFO at its start). `info` holds
    what training measured (scores, dataset); it is saved with the model and never affects the sound.
    """

    kind: ClassVar[str]

    def __init__(self, sample_rate: int):
        self.sample_rate = int(sample_rate)
        self.info: dict[str, Any] = {}

    def process(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """Process mono audio [n] at the model's rate; returns float32 [n]."""
        if int(sample_rate) != self.sample_rate:
            raise ReaDDSPError(f"audio is {sample_rate} Hz but the model was trained at {self.sample_rate} Hz")
        audio = np.asarray(audio, np.float64)
        if audio.ndim != 1:
            raise ReaDDSPError(f"effect models take mono audio, got shape {audio.shape}")
        return np.asarray(self._process(audio), np.float32)

    def __call__(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        return self.process(audio, sample_rate)

    @abstractmethod
    def _process(self, audio: np.ndarray) -> np.ndarray:
        """float64 [n] -> [n], continuing from the current state."""

    @abstractmethod
    def reset(self) -> None:
        """Clear all state."""

    @abstractmethod
    def arrays(self) -> dict[str, np.ndarray]:
        """The numbers that define the model (saved as safetensors tensors)."""

    def config(self) -> dict[str, Any]:
        """JSON-able settings beside the arrays (saved in the file's metadata)."""
        return {}

    @classmethod
    @abstractmethod
    def from_arrays(cls, sample_rate: int, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> EffectModel:
        """Rebuild from a file's arrays and config; raise ValueError naming the first bad value."""


def require(condition: bool, problem: str) -> None:
    """Raise ValueError(problem) unless condition: for checks of numbers read from a model file."""
    if not condition:
        raise ValueError(problem)


def vector(arrays: dict[str, np.ndarray], name: str, min_length: int = 1) -> np.ndarray:
    """arrays[name] as a finite float64 vector of at least `min_length` values."""
    require(name in arrays, f"missing array {name!r}")
    value = np.asarray(arrays[name], np.float64)
    require(value.ndim == 1 and len(value) >= min_length, f"array {name!r} must be a vector of >= {min_length}")
    require(bool(np.all(np.isfinite(value))), f"array {name!r} holds NaN or infinity")
    return value
