"""Numeric edits of the selected notes: set, scale or offset one control, or reset them to generated."""

from __future__ import annotations

from PyQt5.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QWidget

from readdsp.core.performance import CONTROL_NAMES
from readdsp.ui.document import PanelDocument


class SelectionEditor(QWidget):
    def __init__(self, document: PanelDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.count = QLabel()
        self.control = QComboBox()
        self.control.addItems(CONTROL_NAMES)
        self.amount = QDoubleSpinBox()
        self.amount.setRange(-10.0, 10.0)
        self.amount.setDecimals(3)
        self.amount.setSingleStep(0.05)
        self.amount.setValue(0.5)
        layout.addWidget(self.count)
        layout.addWidget(self.control)
        layout.addWidget(self.amount)
        self.buttons = {}
        for operation in ("set", "scale", "offset"):
            button = QPushButton(operation.capitalize())
            button.setProperty("operation", operation)
            button.clicked.connect(self._clicked)  # bound methods: PyQt holds lambda slots strongly
            layout.addWidget(button)
            self.buttons[operation] = button
        self.reset = QPushButton("Reset to generated")
        self.reset.clicked.connect(self._reset)
        layout.addWidget(self.reset)
        layout.addStretch(1)
        document.selection_changed.connect(self.refresh)
        self.refresh()

    def _clicked(self) -> None:
        self.apply(self.sender().property("operation"))

    def _reset(self) -> None:
        self.document.reset_to_generated()

    def apply(self, operation: str) -> None:
        self.document.transform_selection(self.control.currentText(), operation, self.amount.value())

    def refresh(self) -> None:
        n = len(self.document.selection)
        self.count.setText(f"{n} selected, {self._velocities()}" if n else "no selection")
        for button in self.buttons.values():
            button.setEnabled(bool(n))

    def _velocities(self) -> str:
        values = sorted(self.document.notes[i].velocity for i in self.document.selection)
        return f"velocity {values[0]}" if values[0] == values[-1] else f"velocity {values[0]}-{values[-1]}"
