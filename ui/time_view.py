"""Base class of the time-aligned views: the shared axis, wheel zoom/scroll, and a left gutter for labels."""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QWidget

from readdsp.ui.document import PanelDocument
from readdsp.ui.timeline import TimeAxis

GUTTER = 128  # px left of the time area (lane names, pitch labels), the same in every view so they align


class TimeView(QWidget):
    def __init__(self, document: PanelDocument, axis: TimeAxis, parent: QWidget | None = None):
        super().__init__(parent)
        self.document, self.axis = document, axis
        axis.changed.connect(self.update)
        document.changed.connect(self._document_changed)  # a bound method: PyQt holds lambda slots strongly
        document.selection_changed.connect(self.update)
        document.part_changed.connect(self.update)

    def _document_changed(self, part: int, notes: object) -> None:
        self.update()

    def x_of(self, seconds: float) -> float:
        return GUTTER + self.axis.x_of(seconds)

    def t_of(self, x: float) -> float:
        return self.axis.t_of(x - GUTTER)

    def note_at_time(self, seconds: float) -> int | None:
        """The index of a note of the current part sounding at `seconds` (the latest onset wins)."""
        hits = [i for i, n in enumerate(self.document.notes) if n.onset <= seconds < n.offset]
        return max(hits, key=lambda i: self.document.notes[i].onset) if hits else None

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt's name
        steps = event.angleDelta().y() / 120.0
        if event.modifiers() & Qt.ControlModifier:
            self.axis.zoom(1.25**steps, event.pos().x() - GUTTER)
        else:
            self.axis.scroll(-steps * 60.0)
        event.accept()
