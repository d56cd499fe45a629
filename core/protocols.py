"""The interfaces code relies on where several classes serve, as Protocols (checked by mypy, no base class needed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from readdsp.core.control_lanes import ControlLanes
    from readdsp.core.performance import Note
    from readdsp.core.synth.controls import SynthControls


class InstrumentModel(Protocol):
    """What the Renderer drives: one bundle's model (MidiDDSP, StyleDDSP) or a ModelSet of several."""

    instruments: list[str]
    sample_rate: int
    uses_lanes: bool  # whether generate_controls reads each segment's CC/bend lanes

    def generate_expressions(self, voices: list[list[Note]], instruments: list[str]) -> list[np.ndarray]:
        """Per-note expression rows [n_notes, 6] for each voice."""
        ...

    def generate_controls(
        self,
        segments: list[list[Note]],
        n_frames: list[int],
        instruments: list[str],
        seeds: list[int],
        lanes: list[ControlLanes | None] | None = None,
    ) -> list[SynthControls]:
        """Synth controls for each segment (notes timed from its start)."""
        ...

    def synthesize(self, controls: SynthControls, seed: int) -> np.ndarray:
        """Dry audio at `sample_rate` for one segment's controls."""
        ...
