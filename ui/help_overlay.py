"""A translucent overlay listing the keyboard shortcuts and mouse gestures; click or F1 hides it."""

from __future__ import annotations

from PyQt5.QtCore import QRectF, Qt
from PyQt5.QtGui import QColor, QFont, QPainter
from PyQt5.QtWidgets import QWidget

from readdsp.ui import theme
from readdsp.ui.shortcuts import MOUSE_HELP, SHORTCUTS


class HelpOverlay(QWidget):
    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.hide()

    def toggle(self) -> None:
        if self.isVisible():
            self.hide()
        else:
            self.setGeometry(self.parentWidget().rect())
            self.show()
            self.raise_()

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.hide()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(20, 20, 20, 215))
        rows = [(keys, text) for _, keys, text in SHORTCUTS] + [("", "")] + MOUSE_HELP
        line = 22
        box = QRectF(0, 0, 560, line * (len(rows) + 2))
        box.moveCenter(QRectF(self.rect()).center())
        painter.setPen(theme.TEXT)
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(box.adjusted(0, 0, 0, -box.height() + line), Qt.AlignHCenter, "Expression panel: shortcuts")
        font.setBold(False)
        painter.setFont(font)
        for i, (keys, text) in enumerate(rows):
            y = box.top() + line * (i + 1.5)
            painter.setPen(theme.NOTE_SELECTED)
            painter.drawText(QRectF(box.left(), y, 200, line), Qt.AlignRight | Qt.AlignVCenter, keys)
            painter.setPen(theme.TEXT)
            painter.drawText(QRectF(box.left() + 220, y, 340, line), Qt.AlignLeft | Qt.AlignVCenter, text)
