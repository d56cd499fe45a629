"""The Wiener-Hammerstein effect model: learned pre-FIR, static waveshaper, learned post-FIR."""

from __future__ import annotations

from typing import Any

import numpy as np

from readdsp.core.effects.base import EffectModel, vector
from readdsp.core.effects.fir_stream import FirStream, apply_fir
from readdsp.core.effects.shaper import apply_shaper, curve_arrays


def apply_wiener_hammerstein(
    pre: np.ndarray, knots: np.ndarray, values: np.ndarray, post: np.ndarray, audio: np.ndarray
) -> np.ndarray:
    """post * shaper(pre * audio) from rest, output the input's length."""
    return apply_fir(post, apply_shaper(knots, values, apply_fir(pre, audio)))


class WienerHammersteinModel(EffectModel):
    """out = post * curve(pre * audio)."""

    kind = "wiener-hammerstein"

    def __init__(self, sample_rate: int, pre: np.ndarray, knots: np.ndarray, values: np.ndarray, post: np.ndarray):
        super().__init__(sample_rate)
        self.knots, self.values = np.asarray(knots, np.float32), np.asarray(values, np.float32)
        self._pre, self._post = FirStream(pre), FirStream(post)

    def _process(self, audio: np.ndarray) -> np.ndarray:
        return self._post(apply_shaper(self.knots, self.values, self._pre(audio)))

    def reset(self) -> None:
        self._pre.reset()
        self._post.reset()

    def arrays(self) -> dict[str, np.ndarray]:
        return {"pre_fir": self._pre.taps, "knots": self.knots, "values": self.values, "fir": self._post.taps}

    @classmethod
    def from_arrays(
        cls, sample_rate: int, arrays: dict[str, np.ndarray], config: dict[str, Any]
    ) -> WienerHammersteinModel:
        knots, values = curve_arrays(arrays)
        return cls(sample_rate, vector(arrays, "pre_fir"), knots, values, vector(arrays, "fir"))
