"""The loudness the last render used over the selected notes (dB), and the user's drawn loudness; drag to draw."""

from __future__ import annotations

from PyQt5.QtCore import QRectF, Qt
from PyQt5.QtGui import QPainter, QPainterPath, QPen

from readdsp.ui import theme
from readdsp.ui.curve_paths import drawn_curves, polyline, rendered_curve
from readdsp.ui.time_view import GUTTER, TimeView

DB_RANGE = (-60.0, 0.0)


class LoudnessLane(TimeView):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setFixedHeight(64)
        self._stroke: list[tuple[float, float]] = []

    def y_of(self, db: float) -> float:
        low, high = DB_RANGE
        return (high - min(max(db, low), high)) / (high - low) * (self.height() - 6) + 3

    def db_of(self, y: float) -> float:
        low, high = DB_RANGE
        return high - (y - 3) / (self.height() - 6) * (high - low)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.fillRect(self.rect(), theme.BACKGROUND)
        for i in sorted(self.document.selection):
            note = self.document.notes[i]
            span = QRectF(self.x_of(note.onset), 0, self.x_of(note.offset) - self.x_of(note.onset), self.height())
            painter.fillRect(span, theme.PANEL)
        painter.setPen(QPen(theme.CURVE, 1.5))
        for times, values in rendered_curve(self.document, "loudness_db"):
            painter.drawPath(self._path(times, values))
        painter.setPen(QPen(theme.DRAWN, 2))
        for curve in drawn_curves(self.document, "loudness_db"):
            painter.drawPath(self._path(curve.times, curve.values))
        if self._stroke:
            painter.drawPath(self._path(*zip(*self._stroke, strict=True)))
        painter.fillRect(QRectF(0, 0, GUTTER, self.height()), theme.PANEL)
        painter.setPen(theme.TEXT)
        painter.drawText(QRectF(0, 0, GUTTER - 5, self.height()), Qt.AlignRight | Qt.AlignVCenter, "loudness dB")

    def _path(self, times, values) -> QPainterPath:
        return polyline(times, values, self.x_of, self.y_of)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.LeftButton and event.pos().x() >= GUTTER:
            self._stroke = [(self.t_of(event.pos().x()), self.db_of(event.pos().y()))]

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        t = self.t_of(event.pos().x())
        if self._stroke and t > self._stroke[-1][0]:
            self._stroke.append((t, self.db_of(event.pos().y())))
            self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt's name
        stroke, self._stroke = self._stroke, []
        if len(stroke) > 1:
            times, values = zip(*stroke, strict=True)
            self.document.draw_curve("loudness_db", list(times), list(values))
        self.update()
