"""Undoable edits: expression controls of some notes, a part's drawn synthesis curves, and the notes themselves."""

from __future__ import annotations

import copy
from typing import Protocol

import numpy as np
from PyQt5.QtWidgets import QUndoCommand

from readdsp.core.curve_overrides import CurveOverrides, PartCurves
from readdsp.core.performance import Part, Performance
from readdsp.core.render import RenderPlan


class EditTarget(Protocol):
    """What the commands edit (the panel's document)."""

    curves: CurveOverrides

    def part_at(self, index: int) -> Part: ...

    def touch(self, part_index: int, notes: set[int]) -> None: ...

    def set_notes(self, plan: RenderPlan, written: Performance) -> None: ...


class ControlsCommand(QUndoCommand):
    """Set the 6 controls of some notes of one part (rows in CONTROL_NAMES order; None = generated)."""

    def __init__(
        self,
        document: EditTarget,
        part_index: int,
        before: dict[int, np.ndarray | None],
        after: dict[int, np.ndarray | None],
        text: str,
    ):
        super().__init__(text)
        self.document, self.part_index = document, part_index
        self.before, self.after = before, after

    def _apply(self, rows: dict[int, np.ndarray | None]) -> None:
        notes = self.document.part_at(self.part_index).notes
        for index, row in rows.items():
            notes[index].expression = None if row is None else np.array(row, float)
        self.document.touch(self.part_index, set(rows))

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)


class CurvesCommand(QUndoCommand):
    """Replace one part's drawn f0/loudness curves."""

    def __init__(self, document: EditTarget, part_index: int, after: PartCurves, text: str):
        super().__init__(text)
        self.document, self.part_index = document, part_index
        self.before = copy.deepcopy(document.curves.get(part_index, PartCurves()))
        self.after = copy.deepcopy(after)

    def _apply(self, curves: PartCurves) -> None:
        self.document.curves[self.part_index] = copy.deepcopy(curves)
        self.document.touch(self.part_index, set())

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)


class NotesCommand(QUndoCommand):
    """Replace the notes (a humanize): the plan with its expression and the notes as written, kept as copies so
    that undo brings back exactly the notes and controls there were."""

    def __init__(
        self,
        document: EditTarget,
        before: tuple[RenderPlan, Performance],
        after: tuple[RenderPlan, Performance],
        text: str,
    ):
        super().__init__(text)
        self.document = document
        self.before, self.after = copy.deepcopy(before), copy.deepcopy(after)

    def redo(self) -> None:
        self.document.set_notes(*copy.deepcopy(self.after))

    def undo(self) -> None:
        self.document.set_notes(*copy.deepcopy(self.before))
