"""The piano roll of the selected part: notes shaded by velocity, selection (click, shift-click, rubber band), f0."""

from __future__ import annotations

from PyQt5.QtCore import QEvent, QPointF, QRectF, Qt
from PyQt5.QtGui import QColor, QPainter, QPainterPath, QPen
from PyQt5.QtWidgets import QSizePolicy, QToolTip

from readdsp.ui import theme
from readdsp.ui.bars import bar_times
from readdsp.ui.curve_paths import drawn_curves, polyline, rendered_curve
from readdsp.ui.time_view import GUTTER, TimeView

NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MARGIN_PITCHES = 3
# HSL lightness of a note's fill at velocity 1 and 127; the selected range lies above the other, so a quiet
# selected note is still brighter than a loud unselected one
LIGHTNESS = (0.16, 0.56)
SELECTED_LIGHTNESS = (0.64, 0.88)


def note_name(pitch: int) -> str:
    return f"{NAMES[pitch % 12]}{pitch // 12 - 1}"


def note_fill(velocity: int, selected: bool) -> QColor:
    """A note's fill: the theme's note colour, lighter the louder (MIDI velocity 1..127)."""
    base = theme.NOTE_SELECTED if selected else theme.NOTE
    low, high = SELECTED_LIGHTNESS if selected else LIGHTNESS
    loudness = (min(max(velocity, 1), 127) - 1) / 126
    return QColor.fromHslF(base.hslHueF(), base.hslSaturationF(), low + (high - low) * loudness)


class PianoRoll(TimeView):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setMinimumHeight(180)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.draw_f0 = False  # when True, a drag draws an f0 curve instead of selecting
        self._band: tuple[QPointF, QPointF] | None = None
        self._stroke: list[tuple[float, float]] = []

    # --- geometry
    def pitch_range(self) -> tuple[int, int]:
        pitches = [n.pitch for n in self.document.notes] or [60]
        return min(pitches) - MARGIN_PITCHES, max(pitches) + MARGIN_PITCHES

    def row_height(self) -> float:
        low, high = self.pitch_range()
        return self.height() / (high - low + 1)

    def y_of(self, pitch: float) -> float:
        """The y of the centre of `pitch` (fractional pitches for curves)."""
        _, high = self.pitch_range()
        return (high - pitch + 0.5) * self.row_height()

    def pitch_of(self, y: float) -> float:
        _, high = self.pitch_range()
        return high + 0.5 - y / self.row_height()

    def note_rect(self, index: int) -> QRectF:
        note = self.document.notes[index]
        h = self.row_height()
        x0, x1 = self.x_of(note.onset), self.x_of(note.offset)
        return QRectF(x0, self.y_of(note.pitch) - h / 2, max(x1 - x0, 2.0), h)

    def note_at(self, point: QPointF) -> int | None:
        hits = [i for i in range(len(self.document.notes)) if self.note_rect(i).contains(point)]
        return hits[-1] if hits else None

    def note_tooltip(self, index: int) -> str:
        note = self.document.notes[index]
        return f"{note_name(note.pitch)}, velocity {note.velocity}, {note.onset:.3f}-{note.offset:.3f} s"

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.ToolTip:
            index = self.note_at(QPointF(event.pos()))
            if index is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.note_tooltip(index), self)
            return True
        return super().event(event)

    # --- painting
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.fillRect(self.rect(), theme.BACKGROUND)
        low, high = self.pitch_range()
        h = self.row_height()
        for pitch in range(low, high + 1):
            y = self.y_of(pitch) - h / 2
            if NAMES[pitch % 12].endswith("#"):
                painter.fillRect(QRectF(GUTTER, y, self.width(), h), theme.PANEL.darker(115))
        for seconds, _ in bar_times(self.document.plan.performance, self.t_of(self.width())):
            x = self.x_of(seconds)
            if x >= GUTTER:
                painter.setPen(theme.GRID)
                painter.drawLine(int(x), 0, int(x), self.height())
        for i, note in enumerate(self.document.notes):
            rect = self.note_rect(i)
            if rect.right() < GUTTER or rect.left() > self.width():
                continue
            painter.setPen(QPen(theme.EDITED, 2) if note.is_edited() else QPen(theme.BACKGROUND, 1))
            painter.setBrush(note_fill(note.velocity, i in self.document.selection))
            painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 2, 2)
        self._paint_curves(painter)
        if self._band:
            painter.setPen(QPen(theme.NOTE_SELECTED, 1, Qt.DashLine))
            painter.setBrush(theme.BAND)
            painter.drawRect(QRectF(*self._band).normalized())
        painter.fillRect(QRectF(0, 0, GUTTER, self.height()), theme.PANEL.darker(105))
        for pitch in range(low, high + 1):
            if pitch % 12 == 0 or h >= 11:
                y = self.y_of(pitch) - h / 2
                painter.setPen(theme.TEXT_DIM if pitch % 12 else theme.TEXT)
                painter.drawText(QRectF(0, y, GUTTER - 6, h), Qt.AlignRight | Qt.AlignVCenter, note_name(pitch))

    def _paint_curves(self, painter: QPainter) -> None:
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(theme.CURVE, 1.5))
        for times, values in rendered_curve(self.document, "f0_midi"):
            painter.drawPath(self._path(times, values))
        painter.setPen(QPen(theme.DRAWN, 2))
        for curve in drawn_curves(self.document, "f0_midi"):
            painter.drawPath(self._path(curve.times, curve.values))
        if self._stroke:
            times, values = zip(*self._stroke, strict=True)
            painter.drawPath(self._path(times, values))

    def _path(self, times, values) -> QPainterPath:
        return polyline(times, values, self.x_of, self.y_of)

    # --- mouse
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.button() != Qt.LeftButton:
            return
        point = QPointF(event.pos())
        if self.draw_f0:
            self._stroke = [(self.t_of(point.x()), self.pitch_of(point.y()))]
            return
        index = self.note_at(point)
        shift = bool(event.modifiers() & Qt.ShiftModifier)
        if index is None:
            self._band = (point, point)
            if not shift:
                self.document.set_selection(set())
        elif shift:
            self.document.set_selection(self.document.selection ^ {index})
        else:
            self.document.set_selection({index})

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        point = QPointF(event.pos())
        if self._stroke:
            t = self.t_of(point.x())
            if t > self._stroke[-1][0]:
                self._stroke.append((t, self.pitch_of(point.y())))
            self.update()
        elif self._band:
            self._band = (self._band[0], point)
            self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self._stroke:
            times, values = zip(*self._stroke, strict=True)
            self._stroke = []
            self.document.draw_curve("f0_midi", list(times), list(values))
            self.update()
        elif self._band:
            band = QRectF(*self._band).normalized()
            self._band = None
            inside = {i for i in range(len(self.document.notes)) if band.intersects(self.note_rect(i))}
            if event.modifiers() & Qt.ShiftModifier:
                inside |= self.document.selection
            self.document.set_selection(inside)
