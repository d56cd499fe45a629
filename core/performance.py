"""The data model: a Performance holds Parts; a Part holds Notes (6 expression controls), CC lanes, pitch bend."""

from __future__ import annotations

import copy
import numbers
from dataclasses import dataclass, field

import numpy as np

from readdsp.core.errors import ReaDDSPError

#: The six per-note expression controls, in the reference (MIDI-DDSP) order; each lies in [0, 1].
CONTROL_NAMES: tuple[str, ...] = ("volume", "vol_fluc", "vibrato", "brightness", "attack", "vol_peak_pos")
N_CONTROLS = len(CONTROL_NAMES)


def checked_controls(values: object, where: str = "expression") -> np.ndarray:
    """Expression control values as floats clipped to [0, 1]: the one place controls are clipped.

    `values` is a number or any (nested) sequence of numbers. A value that is not a number (a bool, a string,
    None) or is NaN or infinite is a ReaDDSPError naming `where` (np.clip alone would let NaN through).
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        array = values.astype(float)
    else:
        flat = np.asarray(values, dtype=object)
        for value in flat.reshape(-1):
            if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
                raise ReaDDSPError(f"{where}: control value {value!r} is not a number")
        array = flat.astype(float)
    if not np.isfinite(array).all():
        raise ReaDDSPError(f"{where}: control values must be finite numbers (got NaN or infinity)")
    return np.clip(array, 0.0, 1.0)


@dataclass
class Note:
    """One note: MIDI pitch, onset/offset in seconds, velocity 0..127, and optional expression controls."""

    pitch: int
    onset: float
    offset: float
    velocity: int = 100
    expression: np.ndarray | None = None  # shape (6,), CONTROL_NAMES order, or None = let the model decide
    generated: np.ndarray | None = None  # the Expression Generator's controls, kept apart from edits in `expression`

    @property
    def duration(self) -> float:
        return self.offset - self.onset

    def controls(self) -> dict[str, float] | None:
        """The expression controls as a name -> value dict, or None if unset."""
        if self.expression is None:
            return None
        return {name: float(v) for name, v in zip(CONTROL_NAMES, self.expression, strict=True)}

    def set_controls(self, **values: float) -> None:
        """Set some expression controls by name (others keep their value, or 0.5 if none was set)."""
        current = np.full(N_CONTROLS, 0.5) if self.expression is None else np.array(self.expression, float)
        for name, value in values.items():
            if name not in CONTROL_NAMES:
                raise KeyError(f"unknown expression control {name!r}; expected one of {', '.join(CONTROL_NAMES)}")
            current[CONTROL_NAMES.index(name)] = float(checked_controls(value, f"control {name}"))
        self.expression = current

    def is_edited(self, tolerance: float = 1e-4) -> bool:
        """True if the controls that render differ from the generated ones (or nothing was generated)."""
        if self.expression is None:
            return False
        return self.generated is None or not np.allclose(self.expression, self.generated, atol=tolerance)

    def reset_to_generated(self) -> None:
        """Drop the user's edits: render the Expression Generator's controls again (None if none were generated)."""
        self.expression = None if self.generated is None else np.array(self.generated, float)


@dataclass
class Part:
    """One instrument part: notes, CC lanes ({controller: [(time_s, value 0..127)]}) and pitch bend in semitones."""

    name: str = ""
    program: int = 0
    channel: int = 0
    is_drum: bool = False
    instrument: str | None = None  # a ReaDDSP instrument name; None = from the program mapping
    notes: list[Note] = field(default_factory=list)
    cc: dict[int, list[tuple[float, int]]] = field(default_factory=dict)
    pitch_bend: list[tuple[float, float]] = field(default_factory=list)  # (time_s, semitones)

    @property
    def end_time(self) -> float:
        return max((n.offset for n in self.notes), default=0.0)

    def sorted(self) -> Part:
        """A copy with notes sorted by onset, then pitch."""
        out = copy.deepcopy(self)
        out.notes.sort(key=lambda n: (n.onset, n.pitch))
        return out

    def is_monophonic(self, tolerance: float = 1e-6) -> bool:
        """True if no note starts before the previous one ends."""
        notes = sorted(self.notes, key=lambda n: n.onset)
        return all(b.onset >= a.offset - tolerance for a, b in zip(notes, notes[1:], strict=False))

    def expression_matrix(self) -> np.ndarray:
        """Notes x 6 matrix of expression controls (NaN where a note has none)."""
        out = np.full((len(self.notes), N_CONTROLS), np.nan)
        for i, note in enumerate(self.notes):
            if note.expression is not None:
                out[i] = note.expression
        return out

    def set_expression_matrix(self, matrix: np.ndarray) -> None:
        """Assign a notes x 6 matrix of controls (through `checked_controls`); rows with NaN clear a note's controls."""
        matrix = np.asarray(matrix, dtype=float)
        if matrix.shape != (len(self.notes), N_CONTROLS):
            raise ValueError(f"expected a ({len(self.notes)}, {N_CONTROLS}) matrix, got {matrix.shape}")
        for i, (note, row) in enumerate(zip(self.notes, matrix, strict=True)):
            note.expression = None if np.isnan(row).any() else checked_controls(row, f"{self.name} note {i}")


@dataclass
class Performance:
    """A whole piece: parts plus the tempo map it was read with (for writing back)."""

    parts: list[Part] = field(default_factory=list)
    ticks_per_beat: int = 480
    tempo_map: list[tuple[float, float]] = field(default_factory=lambda: [(0.0, 120.0)])  # (time_s, bpm)
    time_signatures: list[tuple[float, int, int]] = field(default_factory=lambda: [(0.0, 4, 4)])  # (time_s, num, den)
    source: str | None = None

    @property
    def duration(self) -> float:
        return max((p.end_time for p in self.parts), default=0.0)

    @property
    def n_notes(self) -> int:
        return sum(len(p.notes) for p in self.parts)

    def copy(self) -> Performance:
        return copy.deepcopy(self)
