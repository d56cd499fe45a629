"""The time ruler: bar numbers above (the MIDI's tempo map and time signatures, or REAPER's bars), seconds below."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PyQt5.QtCore import QRectF, Qt
from PyQt5.QtGui import QPainter

from readdsp.reaper_ext.panel_link import BarLine
from readdsp.ui import theme
from readdsp.ui.bars import bar_times, item_bar_times
from readdsp.ui.document import PanelDocument
from readdsp.ui.time_view import GUTTER, TimeView
from readdsp.ui.timeline import TimeAxis


class TimeRuler(TimeView):
    """`bars`: a REAPER item's bars from the engine (project bar numbers); none: from the performance."""

    def __init__(self, document: PanelDocument, axis: TimeAxis, bars: Sequence[BarLine] = ()):
        super().__init__(document, axis)
        self.bars = list(bars)
        self.setFixedHeight(34)

    def bar_times(self, end_s: float) -> list[tuple[float, int]]:
        """(seconds, bar number) of the bar lines up to `end_s`."""
        if self.bars:
            return item_bar_times(self.bars, end_s)
        return bar_times(self.document.plan.performance, end_s)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), theme.PANEL)
        painter.setPen(theme.TEXT_DIM)
        painter.drawText(QRectF(4, 0, GUTTER - 8, 17), Qt.AlignRight | Qt.AlignVCenter, "bar")
        painter.drawText(QRectF(4, 17, GUTTER - 8, 17), Qt.AlignRight | Qt.AlignVCenter, "s")
        end_s = self.t_of(self.width())
        bars = self.bar_times(end_s)
        min_gap = 40.0  # px between labels
        last_x = -1e9
        for seconds, number in bars:
            x = self.x_of(seconds)
            if x < GUTTER:
                continue
            painter.setPen(theme.GRID_STRONG)
            painter.drawLine(int(x), 0, int(x), 16)
            if x - last_x >= min_gap:
                painter.setPen(theme.TEXT)
                painter.drawText(int(x) + 3, 13, str(number))
                last_x = x
        step = _nice_step(min_gap * 1.5 / self.axis.px_per_s)
        t = math.floor(self.t_of(GUTTER) / step) * step
        while t <= end_s:
            x = self.x_of(t)
            if x >= GUTTER:
                painter.setPen(theme.GRID)
                painter.drawLine(int(x), 26, int(x), 34)
                painter.setPen(theme.TEXT_DIM)
                painter.drawText(int(x) + 3, 30, f"{t:g}")
            t += step
        painter.setPen(theme.GRID_STRONG)
        painter.drawLine(0, self.height() - 1, self.width(), self.height() - 1)


def _nice_step(seconds: float) -> float:
    """The smallest of 0.1, 0.2, 0.5, 1, 2, 5, 10... at least `seconds`."""
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300):
        if step >= seconds:
            return float(step)
    return 600.0
