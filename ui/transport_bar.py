"""The top bar: part and instrument pickers, seed, render, play/stop, and the f0 draw toggle."""

from __future__ import annotations

from PyQt5.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from readdsp.ui.instruments import InstrumentChoice


class TransportBar(QWidget):
    def __init__(self, choices: list[InstrumentChoice], parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.part = QComboBox()
        self.part.setMinimumWidth(160)
        self.instrument = QComboBox()
        self.instrument.setMinimumWidth(200)
        for choice in choices:
            self.instrument.addItem(choice.label(), choice)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.render = QPushButton("Render")
        self.play = QPushButton("Play")
        self.play.setCheckable(True)
        self.draw_f0 = QPushButton("Draw f0")
        self.draw_f0.setCheckable(True)
        self.clear_curves = QPushButton("Clear curves")
        for label, widget in (
            ("Part", self.part),
            ("Instrument", self.instrument),
            ("Seed", self.seed),
            (None, self.render),
            (None, self.play),
            (None, self.draw_f0),
            (None, self.clear_curves),
        ):
            if label:
                layout.addWidget(QLabel(label))
            layout.addWidget(widget)
        layout.addStretch(1)
