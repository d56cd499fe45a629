"""The modulated-delay model (chorus, flanger, vibrato): a learned-shape LFO sweeps a feedback delay line."""

from __future__ import annotations

from typing import Any

import numpy as np

from readdsp.core.effects.base import EffectModel, require, vector
from readdsp.core.effects.delay_line import BUFFER, DelayLine
from readdsp.core.effects.lfo import Lfo

#: Longest delay the model may use (the line holds more; this bounds what a file may ask for).
MAX_DELAY_MS = 150.0


class ModulatedDelayModel(EffectModel):
    """out = dry * x + wet * line(x), the line's delay (ms) = lfo(n), fed x + feedback * its last output.

    Chorus: tens of ms, no feedback; flanger: a few ms with feedback; vibrato: dry = 0.
    """

    kind = "modulation"

    def __init__(self, sample_rate: int, lfo: Lfo, feedback: float, dry: float, wet: float, read_first: bool = False):
        super().__init__(sample_rate)
        self.lfo, self.dry, self.wet = lfo, float(dry), float(wet)
        self._line = DelayLine(feedback, read_first)

    @property
    def feedback(self) -> float:
        return self._line.feedback

    def delays_ms(self, n0: int, n: int) -> np.ndarray:
        """The delay (ms) at output samples n0 .. n0 + n - 1."""
        return self.lfo.values(n0, n)

    def _process(self, audio: np.ndarray) -> np.ndarray:
        delays = self.delays_ms(self._line.n, len(audio)) * (self.sample_rate / 1000.0)
        return self.dry * audio + self.wet * self._line(audio, delays)

    def reset(self) -> None:
        self._line.reset()

    def arrays(self) -> dict[str, np.ndarray]:
        return {"lfo_ms": self.lfo.coefficients}

    def config(self) -> dict[str, Any]:
        return {"rate_hz": self.lfo.rate_hz, "feedback": self.feedback, "dry": self.dry, "wet": self.wet,
                "read_first": self._line.read_first}  # fmt: skip

    @classmethod
    def from_arrays(
        cls, sample_rate: int, arrays: dict[str, np.ndarray], config: dict[str, Any]
    ) -> ModulatedDelayModel:
        rate, feedback, dry, wet = checked_scalars(config, ("rate_hz", "feedback", "dry", "wet"))
        require(0 < rate <= 50, f"rate_hz {rate} outside (0, 50]")
        require(abs(feedback) < 1, f"feedback {feedback} must be inside (-1, 1)")
        lfo = Lfo(rate, vector(arrays, "lfo_ms"), sample_rate)
        longest = min(MAX_DELAY_MS, (BUFFER - 3) / sample_rate * 1000)
        require(float(lfo.table.max()) <= longest, f"the LFO asks for delays over {longest:.0f} ms")
        read_first = config.get("read_first", False)  # files before it was learned: the loop reads last
        require(isinstance(read_first, bool), "config 'read_first' is not true/false")
        return cls(sample_rate, lfo, feedback, dry, wet, read_first)


def checked_scalars(config: dict[str, Any], names: tuple[str, ...]) -> list[float]:
    """config[name] for each name, each a finite number."""
    values = []
    for name in names:
        value = config.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"config {name!r} is not a number")
        require(bool(np.isfinite(value)), f"config {name!r} is not finite")
        values.append(float(value))
    return values
