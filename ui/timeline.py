"""The shared horizontal time axis: zoom and scroll, so the ruler, piano roll and lanes stay aligned."""

from __future__ import annotations

from PyQt5.QtCore import QObject, pyqtSignal

MIN_PX_PER_S = 5.0
MAX_PX_PER_S = 2000.0


class TimeAxis(QObject):
    """Seconds <-> pixels for every time view; `changed` fires on zoom or scroll."""

    changed = pyqtSignal()

    def __init__(self, px_per_s: float = 80.0, offset_s: float = 0.0):
        super().__init__()
        self.px_per_s = px_per_s
        self.offset_s = offset_s

    def x_of(self, seconds: float) -> float:
        return (seconds - self.offset_s) * self.px_per_s

    def t_of(self, x: float) -> float:
        return self.offset_s + x / self.px_per_s

    def zoom(self, factor: float, anchor_x: float = 0.0) -> None:
        """Zoom by `factor`, keeping the time under `anchor_x` in place."""
        anchor_t = self.t_of(anchor_x)
        self.px_per_s = min(max(self.px_per_s * factor, MIN_PX_PER_S), MAX_PX_PER_S)
        self.offset_s = max(anchor_t - anchor_x / self.px_per_s, 0.0)
        self.changed.emit()

    def scroll(self, dx_px: float) -> None:
        self.offset_s = max(self.offset_s + dx_px / self.px_per_s, 0.0)
        self.changed.emit()

    def fit(self, duration_s: float, width_px: int) -> None:
        """Show 0..duration_s across `width_px`."""
        self.px_per_s = min(max(width_px / max(duration_s, 0.1), MIN_PX_PER_S), MAX_PX_PER_S)
        self.offset_s = 0.0
        self.changed.emit()
