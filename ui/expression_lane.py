"""One expression control as a lane under the piano roll: a bar per note, edited by dragging across notes."""

from __future__ import annotations

from PyQt5.QtCore import QRectF, Qt
from PyQt5.QtGui import QPainter, QPen

from readdsp.core.performance import CONTROL_NAMES
from readdsp.ui import theme
from readdsp.ui.time_view import GUTTER, TimeView

PAD = 3  # px above and below the bars


class ExpressionLane(TimeView):
    """Drag to set this control of every note the pointer crosses; the whole drag is one undo step."""

    def __init__(self, document, axis, control: str, parent=None):
        super().__init__(document, axis, parent)
        self.control = control
        self.column = CONTROL_NAMES.index(control)
        self.setFixedHeight(46)
        self._pending: dict[int, float] = {}
        self._dragging = False  # tracked here: synthetic move events may carry no buttons

    def value_of(self, y: float) -> float:
        return min(max(1.0 - (y - PAD) / (self.height() - 2 * PAD), 0.0), 1.0)

    def y_of(self, value: float) -> float:
        return PAD + (1.0 - value) * (self.height() - 2 * PAD)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), theme.BACKGROUND)
        painter.setPen(theme.GRID)
        painter.drawLine(GUTTER, int(self.y_of(0.5)), self.width(), int(self.y_of(0.5)))
        for i, note in enumerate(self.document.notes):
            x0, x1 = self.x_of(note.onset), self.x_of(note.offset)
            if x1 < GUTTER or x0 > self.width():
                continue
            value = self._pending.get(i)
            if value is None:
                value = 0.5 if note.expression is None else float(note.expression[self.column])
            color = theme.NOTE_SELECTED if i in self.document.selection else theme.NOTE
            edited = note.generated is not None and abs(value - float(note.generated[self.column])) > 1e-4
            width = max(x1 - x0 - 1, 2.0)
            painter.fillRect(QRectF(x0, self.y_of(value), width, self.y_of(0.0) - self.y_of(value)), color)
            if edited:
                painter.fillRect(QRectF(x0, self.y_of(value), width, 2), theme.EDITED)
            if note.generated is not None:
                painter.setPen(QPen(theme.GENERATED_MARK, 1, Qt.DotLine))
                y = self.y_of(float(note.generated[self.column]))
                painter.drawLine(int(x0), int(y), int(x0 + width), int(y))
        painter.fillRect(QRectF(0, 0, GUTTER, self.height()), theme.PANEL)
        painter.setPen(theme.TEXT)
        painter.drawText(QRectF(0, 0, GUTTER - 5, self.height()), Qt.AlignRight | Qt.AlignVCenter, self.control)
        painter.setPen(theme.GRID_STRONG)
        painter.drawLine(0, self.height() - 1, self.width(), self.height() - 1)

    def _capture(self, x: float, y: float) -> None:
        index = self.note_at_time(self.t_of(x))
        if index is not None:
            self._pending[index] = round(self.value_of(y), 4)
            self.update()

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.LeftButton and event.pos().x() >= GUTTER:
            self._pending, self._dragging = {}, True
            self._capture(event.pos().x(), event.pos().y())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self._dragging:
            self._capture(event.pos().x(), event.pos().y())

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt's name
        pending, self._pending, self._dragging = self._pending, {}, False
        if pending:
            self.document.edit_control(self.control, pending)
        self.update()
