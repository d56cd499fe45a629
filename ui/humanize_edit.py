"""Humanize in the panel: a part's notes (or the selected ones) humanized from the notes as opened, and a plan
whose expression is generated anew for that part, the user's edited values kept on their notes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from readdsp.core.humanize import humanize
from readdsp.core.performance import Performance
from readdsp.core.render import RenderPlan

HUMANIZED_SUFFIX = ".humanized.mid"


def performance_part_index(plan: RenderPlan, plan_part: int) -> int:
    """The index in `plan.performance.parts` of the plan's part `plan_part` (drum parts are not planned)."""
    target = plan.parts[plan_part].part
    return next(k for k, part in enumerate(plan.performance.parts) if part is target)


def humanized_notes(
    original: Performance,
    written: Performance,
    part: int,
    notes: set[int] | None,
    amount: float,
    timing: bool,
    seed: int,
) -> Performance:
    """`written` with notes `notes` (all if None) of part `part` humanized (`core.humanize`) from `original`, the
    notes as opened: a second humanize replaces the first (amount 0 gives the notes back), it never compounds."""
    humanized = humanize(original, amount, timing, seed)
    out = written.copy()
    for index, note in enumerate(out.parts[part].notes):
        if notes is None or index in notes:
            new = humanized.parts[part].notes[index]
            note.velocity, note.onset, note.offset = new.velocity, new.onset, new.offset
    return out


def regenerated_plan(
    plan: RenderPlan, written: Performance, part: int, prepare: Callable[[Performance], RenderPlan]
) -> RenderPlan:
    """A plan of `written` in which part `part` gets the Expression Generator's controls for its (new) notes as
    `generated`, and keeps the user's edited values on their notes; the other parts keep theirs as they were."""
    performance = written.copy()
    for k, (new_part, old_part) in enumerate(zip(performance.parts, plan.performance.parts, strict=True)):
        for new, old in zip(new_part.notes, old_part.notes, strict=True):
            keep = k != part
            new.expression = _copy(old.expression) if keep else None
            new.generated = _copy(old.generated) if keep else None
    fresh = prepare(performance)
    for note, old in zip(fresh.performance.parts[part].notes, plan.performance.parts[part].notes, strict=True):
        note.generated = _copy(note.expression)
        if old.is_edited():
            note.expression = _copy(old.expression)
    return fresh


def humanized_midi_path(midi: Path) -> Path:
    """Where the panel saves humanized notes: SONG.mid -> SONG.humanized.mid, beside it (never the input)."""
    return midi.with_name(midi.stem + HUMANIZED_SUFFIX)


def _copy(values: np.ndarray | None) -> np.ndarray | None:
    return None if values is None else np.array(values, float)
