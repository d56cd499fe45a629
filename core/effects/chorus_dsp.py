"""juce::dsp::Chorus's structure (pedalboard's Chorus): sine-LFO delay line with feedback, dry/wet mix."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numba
import numpy as np

from readdsp.core.effects.base import EffectModel, require, vector
from readdsp.core.effects.delay_line import DelayLine

N_PARAMS = 8


@dataclass
class ChorusParams:
    """Delay (in samples) = max(min_delay, centre + swing * sin(lfo_phase[n] + phase)) at output sample n.

    lfo_phase accumulates 2 pi rate / sr per sample in float32 and wraps at 2 pi, as juce::dsp::Phase does
    (its rounding makes the true LFO rate differ from the nominal one by ~0.1 %, which matters over minutes).
    The delay line is fed input - feedback * previous wet sample and read with linear interpolation;
    out = dry * input + wet * delayed. JUCE: swing = 10 ms * depth, min_delay = 1 ms, phase = -pi, and
    the LFO restarts with each reset (our datasets reset the plugin at the start of every split).
    """

    rate_hz: float
    phase: float
    centre: float
    swing: float
    min_delay: float
    feedback: float
    dry: float
    wet: float

    def as_dict(self) -> dict[str, float]:
        """Plain floats (for JSON)."""
        return {k: float(v) for k, v in asdict(self).items()}


@numba.njit(cache=True)
def _float32_phase(n, increment, start):  # noqa: ANN001, ANN202
    out = np.empty(n, np.float32)
    two_pi = np.float32(2 * np.pi)
    phase = np.float32(start)
    for i in range(n):
        out[i] = phase
        phase = np.float32(phase + increment)
        while phase >= two_pi:
            phase = np.float32(phase - two_pi)
    return out, phase


class JuceChorus:
    """The chorus as a stream: the float32 LFO phase and the delay line carry over between calls."""

    def __init__(self, p: ChorusParams, sample_rate: int):
        self.p, self.sample_rate = p, int(sample_rate)
        self._increment = np.float32(np.float32(2 * np.pi) * np.float32(p.rate_hz) / np.float32(sample_rate))
        self._line = DelayLine(-p.feedback)
        self.reset()

    def reset(self) -> None:
        self._phase = np.float32(0.0)
        self._line.reset()

    def wet(self, x: np.ndarray) -> np.ndarray:
        """The delay line's output (before the dry/wet mix), float64."""
        phase, self._phase = _float32_phase(len(x), self._increment, self._phase)
        lfo = np.sin(phase.astype(np.float64) + self.p.phase)
        delays = np.maximum(self.p.min_delay, self.p.centre + self.p.swing * lfo)
        return self._line(np.asarray(x, np.float64), delays)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.p.dry * np.asarray(x, np.float64) + self.p.wet * self.wet(x)


def wet_signal(x: np.ndarray, p: ChorusParams, sr: int) -> np.ndarray:
    """The delay line's output from rest, float64."""
    return JuceChorus(p, sr).wet(x)


def render_chorus(x: np.ndarray, p: ChorusParams, sr: int) -> np.ndarray:
    """The chorus output for mono input that starts where the LFO restarts."""
    return JuceChorus(p, sr)(x).astype(np.float32)


class JuceChorusModel(EffectModel):
    """The grey box fitted to pedalboard's (JUCE's) Chorus."""

    kind = "chorus"

    def __init__(self, sample_rate: int, params: ChorusParams):
        super().__init__(sample_rate)
        self.params = params
        self._chorus = JuceChorus(params, sample_rate)

    def _process(self, audio: np.ndarray) -> np.ndarray:
        return self._chorus(audio)

    def reset(self) -> None:
        self._chorus.reset()

    def arrays(self) -> dict[str, np.ndarray]:
        return {"params": np.array(list(self.params.as_dict().values()), np.float64)}

    def config(self) -> dict[str, Any]:
        return {"params": self.params.as_dict()}

    @classmethod
    def from_arrays(cls, sample_rate: int, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> JuceChorusModel:
        values = vector(arrays, "params", N_PARAMS)
        require(len(values) == N_PARAMS, f"params must hold {N_PARAMS} values")
        p = ChorusParams(*(float(v) for v in values))
        require(0 < p.rate_hz <= 50 and abs(p.feedback) < 1, "chorus rate or feedback out of range")
        require(0 <= p.min_delay and p.centre + abs(p.swing) < 8000, "chorus delays out of range")
        return cls(sample_rate, p)
