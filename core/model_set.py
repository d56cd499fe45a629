"""Several instrument models (one per bundle) behind the one model interface the Renderer drives.

Work is batched per model: `generate_expressions` and `generate_controls` hand each model only its own rows, in one
call, and put the results back in order. Every model's audio comes back at the set's rate (the first model's):
`synthesize` resamples the others' segments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from readdsp.core.control_lanes import ControlLanes
from readdsp.core.performance import Note
from readdsp.core.protocols import InstrumentModel
from readdsp.core.resample import resample
from readdsp.core.synth import SynthControls


@dataclass
class OwnedControls(SynthControls):
    """Synth controls that remember which model of the set made them."""

    owner: int = 0


class ModelSet:
    """Models by instrument: the first model that holds an instrument renders it."""

    def __init__(self, models: list[InstrumentModel]):
        if not models:
            raise ValueError("a ModelSet needs at least one model")
        self.models = list(models)
        self.owner: dict[str, int] = {}
        for index, model in enumerate(self.models):
            for name in model.instruments:
                self.owner.setdefault(name, index)
        self.instruments = list(self.owner)
        self.sample_rate = int(self.models[0].sample_rate)
        self.uses_lanes = any(m.uses_lanes for m in self.models)

    def model_of(self, instrument: str) -> InstrumentModel:
        return self.models[self.owner[instrument]]

    def _groups(self, instruments: list[str]) -> dict[int, list[int]]:
        groups: dict[int, list[int]] = {}
        for row, name in enumerate(instruments):
            groups.setdefault(self.owner[name], []).append(row)
        return groups

    def generate_expressions(self, voices: list[list[Note]], instruments: list[str]) -> list[np.ndarray]:
        out: list[np.ndarray] = [np.zeros((0, 6), np.float32)] * len(voices)
        for index, rows in self._groups(instruments).items():
            made = self.models[index].generate_expressions([voices[r] for r in rows], [instruments[r] for r in rows])
            for r, value in zip(rows, made, strict=True):
                out[r] = value
        return out

    def generate_controls(
        self,
        segments: list[list[Note]],
        n_frames: list[int],
        instruments: list[str],
        seeds: list[int],
        lanes: list[ControlLanes | None] | None = None,
    ) -> list[SynthControls]:
        out: dict[int, SynthControls] = {}
        for index, rows in self._groups(instruments).items():
            model = self.models[index]
            made = model.generate_controls(
                [segments[r] for r in rows],
                [n_frames[r] for r in rows],
                [instruments[r] for r in rows],
                [seeds[r] for r in rows],
                lanes=[lanes[r] for r in rows] if lanes is not None and model.uses_lanes else None,
            )
            for r, ctrl in zip(rows, made, strict=True):
                out[r] = OwnedControls(**ctrl.to_dict(), owner=index)
        return [out[r] for r in range(len(segments))]

    def synthesize(self, controls: SynthControls, seed: int) -> np.ndarray:
        model = self.models[controls.owner if isinstance(controls, OwnedControls) else 0]
        audio = model.synthesize(controls, seed)
        return audio if model.sample_rate == self.sample_rate else resample(audio, model.sample_rate, self.sample_rate)
