"""A project's audio items and the MIDI items annotating them, in project time: what `from-project` builds from.

`reaper_ext.project_audio` reads it from an .RPP; `datasets.from_project` turns it into a dataset. Neither imports
the other: this module is the contract between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from readdsp.core.control_lanes import ControlLanes
from readdsp.core.performance import Note


@dataclass
class AudioSpan:
    """An audio item: `path` (resolved, checked to exist) plays from `source_offset` s at `play_rate` for `length` s
    of project time from `position`."""

    label: str
    path: Path
    position: float
    length: float
    source_offset: float = 0.0
    play_rate: float = 1.0

    @property
    def end(self) -> float:
        return self.position + self.length


@dataclass
class AnnotationSpan:
    """A MIDI item: its notes and lanes in project seconds (notes cut at the item's end)."""

    label: str
    position: float
    length: float
    notes: list[Note]
    lanes: ControlLanes


@dataclass
class AnnotatedProject:
    """What was read, and what was skipped: `skipped` counts by reason, `messages` one line per skipped item."""

    path: Path
    audio: list[AudioSpan]
    annotations: list[AnnotationSpan]
    skipped: dict[str, int] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    def skip(self, reason: str, message: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        self.messages.append(message)
