"""The panel's document: the planned performance, the selected part and notes, drawn curves and the undo stack."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
from PyQt5.QtCore import QObject, pyqtSignal
from PyQt5.QtWidgets import QUndoStack

from readdsp.core.curve_overrides import Curve, CurveOverrides, PartCurves
from readdsp.core.performance import CONTROL_NAMES, Note, Part, Performance, checked_controls
from readdsp.core.render import RenderPlan
from readdsp.ui.commands import ControlsCommand, CurvesCommand, NotesCommand
from readdsp.ui.humanize_edit import humanized_notes, performance_part_index, regenerated_plan


def adopt_generated(plan: RenderPlan, edits: RenderPlan | None = None) -> RenderPlan:
    """Mark a freshly prepared plan's controls as generated; carry the user's edits over from an older plan."""
    for p, part_plan in enumerate(plan.parts):
        for n, note in enumerate(part_plan.part.notes):
            note.generated = None if note.expression is None else np.array(note.expression, float)
            if edits is not None and p < len(edits.parts) and n < len(edits.parts[p].part.notes):
                old = edits.parts[p].part.notes[n]
                if old.pitch == note.pitch and old.is_edited():
                    note.expression = np.array(old.expression, float)
    return plan


class PanelDocument(QObject):
    """What the panel edits. `changed(part, notes)` after any edit; `selection_changed` when the selection moves."""

    changed = pyqtSignal(int, object)
    selection_changed = pyqtSignal()
    part_changed = pyqtSignal()

    def __init__(self, plan: RenderPlan, written: Performance | None = None):
        super().__init__()
        self.plan = plan
        self.original = (written or plan.performance).copy()  # the notes as opened: what humanize starts from
        self.written = self.original.copy()  # the notes as the panel holds them now (what a save writes)
        self.saved = self.original.copy()  # the notes as the file or take the panel saves to holds them
        self.part_index = 0
        self.selection: set[int] = set()
        self.curves: CurveOverrides = {}
        self.undo_stack = QUndoStack(self)
        self.dirty: set[tuple[int, int]] = set()  # (part, note) edited since the last render, for status lines

    # --- reading
    def part_at(self, index: int) -> Part:
        return self.plan.parts[index].part

    @property
    def part(self) -> Part:
        return self.part_at(self.part_index)

    @property
    def notes(self) -> list[Note]:
        return self.part.notes if self.plan.parts else []

    def part_labels(self) -> list[str]:
        return [f"{p.label} ({p.instrument})" for p in self.plan.parts]

    def notes_unsaved(self) -> bool:
        """True while the panel's notes (velocity, onset, offset) differ from those of the file or take it saves to."""
        return any(
            (a.velocity, a.onset, a.offset) != (b.velocity, b.onset, b.offset)
            for new, old in zip(self.written.parts, self.saved.parts, strict=True)
            for a, b in zip(new.notes, old.notes, strict=True)
        )

    def edited_count(self) -> int:
        return sum(note.is_edited() for part_plan in self.plan.parts for note in part_plan.part.notes)

    # --- changing
    def replace_plan(self, plan: RenderPlan) -> None:
        """A re-prepared plan (another instrument): the user's edits carry over, the undo stack stays valid."""
        self.plan = adopt_generated(plan, self.plan)
        self.part_index = min(self.part_index, max(len(plan.parts) - 1, 0))
        self.part_changed.emit()
        self.touch(self.part_index, set())

    def set_notes(self, plan: RenderPlan, written: Performance) -> None:
        """New notes (a humanize, or its undo): every view redraws the part."""
        self.plan, self.written = plan, written
        self.selection = {i for i in self.selection if i < len(self.notes)}
        self.part_changed.emit()
        self.selection_changed.emit()
        self.touch(self.part_index, set(range(len(self.notes))))

    def humanize(self, amount: float, timing: bool, seed: int, prepare: Callable[[Performance], RenderPlan]) -> int:
        """Humanize the selected notes of the part (all of them if none is selected) as one undo step; `prepare`
        plans a performance (regenerating the part's expression). Returns the number of notes humanized."""
        if not self.plan.parts:
            return 0
        part = performance_part_index(self.plan, self.part_index)
        targets = set(self.selection) or None
        written = humanized_notes(self.original, self.written, part, targets, amount, timing, seed)
        plan = regenerated_plan(self.plan, written, part, prepare)
        count = len(targets) if targets is not None else len(self.notes)
        where = f"{count} selected note(s)" if targets is not None else self.plan.parts[self.part_index].label
        text = f"Humanize {where} (amount {amount:.2f}, seed {seed}{', timing' if timing else ''})"
        self.undo_stack.push(NotesCommand(self, (self.plan, self.written), (plan, written), text))
        return count

    def mark_saved(self) -> None:
        """The panel's notes are now those of the file or take it saves to."""
        self.saved = self.written.copy()

    def select_part(self, index: int) -> None:
        if index != self.part_index and 0 <= index < len(self.plan.parts):
            self.part_index = index
            self.selection = set()
            self.part_changed.emit()
            self.selection_changed.emit()

    def set_selection(self, indices: set[int]) -> None:
        self.selection = {i for i in indices if 0 <= i < len(self.notes)}
        self.selection_changed.emit()

    def touch(self, part_index: int, notes: set[int]) -> None:
        self.dirty |= {(part_index, n) for n in notes}
        self.changed.emit(part_index, notes)

    def edit_control(self, control: str, values: dict[int, float], text: str | None = None) -> None:
        """Set one control on some notes of the current part (values clipped to [0, 1]) as one undo step."""
        column = CONTROL_NAMES.index(control)
        before, after = {}, {}
        for index, value in values.items():
            note = self.notes[index]
            current = note.expression if note.expression is not None else np.full(len(CONTROL_NAMES), 0.5)
            row = np.array(current, float)
            row[column] = float(checked_controls(value, control))
            before[index], after[index] = _row(note.expression), row
        if any(not np.array_equal(before[i], after[i]) for i in after):
            label = text or f"Edit {control} of {len(after)} note(s)"
            self.undo_stack.push(ControlsCommand(self, self.part_index, before, after, label))

    def transform_selection(self, control: str, operation: str, amount: float) -> None:
        """'set', 'scale' or 'offset' one control of the selected notes, as one undo step."""
        column = CONTROL_NAMES.index(control)
        values = {}
        for index in sorted(self.selection):
            note = self.notes[index]
            value = 0.5 if note.expression is None else float(note.expression[column])
            values[index] = {"set": amount, "scale": value * amount, "offset": value + amount}[operation]
        if values:
            self.edit_control(control, values, f"{operation.capitalize()} {control} of {len(values)} note(s)")

    def reset_to_generated(self, indices: set[int] | None = None) -> None:
        """Restore the generated controls of the given notes (default: the selection, else the whole part)."""
        targets = indices if indices is not None else (self.selection or set(range(len(self.notes))))
        before = {i: _row(self.notes[i].expression) for i in sorted(targets) if self.notes[i].is_edited()}
        after = {i: _row(self.notes[i].generated) for i in before}
        if before:
            text = f"Reset {len(before)} note(s) to generated"
            self.undo_stack.push(ControlsCommand(self, self.part_index, before, after, text))

    def draw_curve(self, kind: str, times: list[float], values: list[float]) -> None:
        """Add a drawn curve ('f0_midi' or 'loudness_db') to the current part, as one undo step."""
        if len(times) < 2 or max(times) - min(times) <= 0:
            return
        curves = copy.deepcopy(self.curves.get(self.part_index, PartCurves()))
        getattr(curves, kind).append(Curve(np.array(times), np.array(values)))
        self.undo_stack.push(CurvesCommand(self, self.part_index, curves, f"Draw {kind.split('_')[0]} curve"))

    def clear_curves(self) -> None:
        if self.curves.get(self.part_index):
            self.undo_stack.push(CurvesCommand(self, self.part_index, PartCurves(), "Clear drawn curves"))


def _row(values: np.ndarray | None) -> np.ndarray | None:
    return None if values is None else np.array(values, float)
