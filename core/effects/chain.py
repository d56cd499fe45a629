"""Effect chains built from a list, after pedalboard.Pedalboard: each model's output feeds the next."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from readdsp.core.effects.base import EffectModel
from readdsp.core.errors import ReaDDSPError


class EffectChain:
    """`EffectChain([model, ...])`: list-like (index, append, len, iterate), `process` and `reset` like a model."""

    def __init__(self, models: Iterable[EffectModel] = ()):
        self._models: list[EffectModel] = []
        for model in models:
            self.append(model)

    def append(self, model: EffectModel) -> None:
        if not isinstance(model, EffectModel):
            raise ReaDDSPError(f"an effect chain holds effect models, not {type(model).__name__}")
        self._models.append(model)

    def __len__(self) -> int:
        return len(self._models)

    def __getitem__(self, index: int) -> EffectModel:
        return self._models[index]

    def __iter__(self) -> Iterator[EffectModel]:
        return iter(self._models)

    def process(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """Run every model in order, continuing each one's state."""
        out = np.asarray(audio, np.float32)
        for model in self._models:
            out = model.process(out, sample_rate)
        return out

    __call__ = process

    def reset(self) -> None:
        for model in self._models:
            model.reset()
