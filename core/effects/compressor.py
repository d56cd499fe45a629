"""The feed-forward compressor model: RMS detector, soft-knee gain computer, attack/release gain smoothing."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numba
import numpy as np

from readdsp.core.effects.base import EffectModel, require
from readdsp.core.effects.modulation import checked_scalars


@dataclass
class CompressorParams:
    """Times in ms (one-pole time constants), levels in dB; ratio >= 1 (a large ratio is a limiter)."""

    detector_ms: float
    threshold_db: float
    ratio: float
    knee_db: float
    attack_ms: float
    release_ms: float
    makeup_db: float

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def one_pole(time_ms: float, sample_rate: int) -> float:
    """The coefficient of a one-pole smoother with this time constant (0 ms: no smoothing)."""
    return float(np.exp(-1000.0 / (max(time_ms, 1e-3) * sample_rate)))


@numba.njit(cache=True)
def _compress(x, alpha_d, threshold, slope, knee, alpha_a, alpha_r, makeup, state):  # noqa: ANN001, ANN202
    level, gain = state[0], state[1]
    out = np.empty(len(x))
    for i in range(len(x)):
        level = alpha_d * level + (1.0 - alpha_d) * x[i] * x[i]
        over = 10.0 * np.log10(level + 1e-12) - threshold
        if 2.0 * over <= -knee:
            target = 0.0
        elif 2.0 * over < knee:
            target = slope * (over + 0.5 * knee) ** 2 / (2.0 * knee)
        else:
            target = slope * over
        alpha = alpha_a if target < gain else alpha_r
        gain = alpha * gain + (1.0 - alpha) * target
        out[i] = x[i] * 10.0 ** ((gain + makeup) / 20.0)
    state[0], state[1] = level, gain
    return out


class CompressorModel(EffectModel):
    """Level = one-pole mean square of x (dB); reduction = soft-knee (1/ratio - 1) * (level - threshold);
    the reduction (dB) approaches its target with the attack time when falling and the release time when
    rising; out = x * 10^((reduction + makeup) / 20)."""

    kind = "compressor"

    def __init__(self, sample_rate: int, params: CompressorParams):
        super().__init__(sample_rate)
        self.params = params
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros(2)

    def _process(self, audio: np.ndarray) -> np.ndarray:
        p, sr = self.params, self.sample_rate
        return _compress(audio, one_pole(p.detector_ms, sr), p.threshold_db, 1.0 / p.ratio - 1.0,
                         max(p.knee_db, 1e-3), one_pole(p.attack_ms, sr), one_pole(p.release_ms, sr),
                         p.makeup_db, self._state)  # fmt: skip

    def arrays(self) -> dict[str, np.ndarray]:
        return {}

    def config(self) -> dict[str, Any]:
        return self.params.as_dict()

    @classmethod
    def from_arrays(cls, sample_rate: int, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> CompressorModel:
        params = CompressorParams(*checked_scalars(config, tuple(CompressorParams.__dataclass_fields__)))
        for name in ("detector_ms", "attack_ms", "release_ms"):
            require(0 <= getattr(params, name) <= 10000, f"{name} outside 0..10000 ms")
        require(1 <= params.ratio <= 1000, f"ratio {params.ratio} outside 1..1000")
        require(0 <= params.knee_db <= 60, f"knee_db {params.knee_db} outside 0..60")
        require(abs(params.threshold_db) <= 200 and abs(params.makeup_db) <= 60, "threshold or makeup out of range")
        return cls(sample_rate, params)
