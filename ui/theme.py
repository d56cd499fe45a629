"""A dark theme close to REAPER's default (greys around #333, teal accents) for the whole application."""

from __future__ import annotations

from PyQt5.QtGui import QColor, QPalette
from PyQt5.QtWidgets import QApplication

BACKGROUND = QColor("#2b2b2b")
PANEL = QColor("#333538")
GRID = QColor("#45484c")
GRID_STRONG = QColor("#5a5e63")
TEXT = QColor("#d4d4d4")
TEXT_DIM = QColor("#8c9096")
NOTE = QColor("#3f8f8a")
NOTE_SELECTED = QColor("#7fd6cf")
EDITED = QColor("#e0a54a")
GENERATED_MARK = QColor("#c8c8c8")
CURVE = QColor("#f2f2a0")
DRAWN = QColor("#ff7a6b")
BAND = QColor(127, 214, 207, 60)


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    for role, color in (
        (QPalette.Window, PANEL),
        (QPalette.WindowText, TEXT),
        (QPalette.Base, BACKGROUND),
        (QPalette.AlternateBase, PANEL),
        (QPalette.Text, TEXT),
        (QPalette.Button, QColor("#3c3f43")),
        (QPalette.ButtonText, TEXT),
        (QPalette.Highlight, NOTE),
        (QPalette.HighlightedText, QColor("#ffffff")),
        (QPalette.ToolTipBase, PANEL),
        (QPalette.ToolTipText, TEXT),
        (QPalette.PlaceholderText, TEXT_DIM),
    ):
        palette.setColor(role, color)
    palette.setColor(QPalette.Disabled, QPalette.ButtonText, TEXT_DIM)
    palette.setColor(QPalette.Disabled, QPalette.Text, TEXT_DIM)
    app.setPalette(palette)
    app.setStyleSheet(
        "QToolTip { border: 1px solid #5a5e63; }"
        "QProgressBar { border: 1px solid #45484c; border-radius: 2px; text-align: center; height: 12px; }"
        "QProgressBar::chunk { background: #3f8f8a; }"
    )
