"""The gate / downward-expander model: peak-to-RMS detector, soft-knee expander with a floor and hysteresis,
attack/hold/release smoothing."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numba
import numpy as np

from readdsp.core.effects.base import EffectModel, require
from readdsp.core.effects.compressor import one_pole
from readdsp.core.effects.modulation import checked_scalars


@dataclass
class GateParams:
    """Times in ms, levels in dB. Below the threshold the gain falls (ratio - 1) dB per dB, down to -range_db:
    ratio 2 is a gentle expander, a large ratio with a floor is a gate. The threshold is where a closed gate
    opens; an open one closes hysteresis_db lower."""

    detector_attack_ms: float
    detector_release_ms: float
    threshold_db: float
    hysteresis_db: float
    ratio: float
    knee_db: float
    range_db: float
    attack_ms: float
    hold_ms: float
    release_ms: float
    makeup_db: float

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


@numba.njit(cache=True)
def expander_gain_db(over: float, slope: float, knee: float, range_db: float) -> float:
    """Static gain (dB, <= 0) at `over` dB above the threshold: 0 above the knee, slope * over below it, a
    quadratic across it, never under -range_db (slope = ratio - 1, knee > 0)."""
    if 2.0 * over >= knee:
        gain = 0.0
    elif 2.0 * over > -knee:
        gain = -slope * (over - 0.5 * knee) ** 2 / (2.0 * knee)
    else:
        gain = slope * over
    return max(gain, -range_db)


@numba.njit(cache=True)
def detector_step(level: float, power: float, alpha_rise: float, alpha_fall: float) -> float:
    """The detector's next level (a power): a one-pole towards x^2, with its attack coefficient when rising."""
    alpha = alpha_rise if power > level else alpha_fall
    return alpha * level + (1.0 - alpha) * power


@numba.njit(cache=True)
def detector_levels(x: np.ndarray, alpha_rise: float, alpha_fall: float) -> np.ndarray:
    """The detector's level (a power) at every sample, from rest."""
    levels = np.empty(len(x))
    level = 0.0
    for i in range(len(x)):
        level = detector_step(level, x[i] * x[i], alpha_rise, alpha_fall)
        levels[i] = level
    return levels


@numba.njit(cache=True)
def _gate(x, alpha_rise, alpha_fall, threshold, hysteresis, slope, knee, range_db, alpha_a, hold, alpha_r, makeup,
          state):  # noqa: ANN001, ANN202  # fmt: skip
    level, gain, held = state[0], state[1], state[2]
    out = np.empty(len(x))
    for i in range(len(x)):
        level = detector_step(level, x[i] * x[i], alpha_rise, alpha_fall)
        openness = min(max(1.0 + gain / max(range_db, 1e-9), 0.0), 1.0)  # 0 closed (at the floor) .. 1 open
        over = 10.0 * np.log10(level + 1e-12) - threshold + hysteresis * openness
        target = expander_gain_db(over, slope, knee, range_db)
        if target >= gain:  # opening: attack, and the hold starts again
            held = 0.0
            gain = alpha_a * gain + (1.0 - alpha_a) * target
        else:  # closing: wait `hold` samples, then release (a fractional first step keeps hold continuous)
            held += 1.0
            excess = held - hold
            if excess > 0.0:
                alpha = alpha_r if excess >= 1.0 else alpha_r**excess
                gain = alpha * gain + (1.0 - alpha) * target
        out[i] = x[i] * 10.0 ** ((gain + makeup) / 20.0)
    state[0], state[1], state[2] = level, gain, held
    return out


class GateModel(EffectModel):
    """Level (dB) = x^2 through a one-pole that rises with the detector's attack time and falls with its release
    time (equal times: a mean square; a fast rise: a peak follower); target gain = soft-knee downward expansion
    below the threshold, floored at -range, the threshold lowered by the hysteresis as far as the gate is open
    (its gain's place between the floor and 0 dB: a smooth Schmitt trigger); the gain (dB) rises to its target
    with the attack time, and falls with the release time once it has wanted to fall for the hold time;
    out = x * 10^((gain + makeup) / 20). At rest it is closed."""

    kind = "gate"

    def __init__(self, sample_rate: int, params: GateParams):
        super().__init__(sample_rate)
        self.params = params
        self.reset()

    def reset(self) -> None:
        self._state = np.array([0.0, -self.params.range_db, 0.0])

    def static_gain_db(self, level_db: np.ndarray) -> np.ndarray:
        """The gain computer's curve (dB, without makeup) at steady detector levels (dB) for a closed gate (an
        open one's lies hysteresis_db lower)."""
        p = self.params
        slope, knee = p.ratio - 1.0, max(p.knee_db, 1e-3)
        return np.array([expander_gain_db(v - p.threshold_db, slope, knee, p.range_db) for v in np.ravel(level_db)])

    def _process(self, audio: np.ndarray) -> np.ndarray:
        p, sr = self.params, self.sample_rate
        attack, release = one_pole(p.attack_ms, sr), one_pole(p.release_ms, sr)
        return _gate(audio, one_pole(p.detector_attack_ms, sr), one_pole(p.detector_release_ms, sr), p.threshold_db,
                     p.hysteresis_db, p.ratio - 1.0, max(p.knee_db, 1e-3), p.range_db, attack, p.hold_ms * 1e-3 * sr,
                     release, p.makeup_db, self._state)  # fmt: skip

    def arrays(self) -> dict[str, np.ndarray]:
        return {}

    def config(self) -> dict[str, Any]:
        return self.params.as_dict()

    @classmethod
    def from_arrays(cls, sample_rate: int, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> GateModel:
        params = GateParams(*checked_scalars(config, tuple(GateParams.__dataclass_fields__)))
        for name in ("detector_attack_ms", "detector_release_ms", "attack_ms", "hold_ms", "release_ms"):
            require(0 <= getattr(params, name) <= 10000, f"{name} outside 0..10000 ms")
        require(1 <= params.ratio <= 1000, f"ratio {params.ratio} outside 1..1000")
        require(0 <= params.knee_db <= 60, f"knee_db {params.knee_db} outside 0..60")
        require(0 <= params.range_db <= 120, f"range_db {params.range_db} outside 0..120")
        require(0 <= params.hysteresis_db <= 60, f"hysteresis_db {params.hysteresis_db} outside 0..60")
        require(abs(params.threshold_db) <= 200 and abs(params.makeup_db) <= 60, "threshold or makeup out of range")
        return cls(sample_rate, params)
