"""The top bar: part and instrument pickers, seed, render, play/stop, the f0 draw toggle, and humanize."""

from __future__ import annotations

from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

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
        self.humanize = QPushButton("Humanize")
        self.humanize.setToolTip(
            "Learned velocities and durations (onsets too with Timing) for the selected notes, else the whole part, "
            "with the seed above (Ctrl+H; undo with Ctrl+Z)"
        )
        self.amount = QDoubleSpinBox()
        self.amount.setRange(0.0, 1.0)
        self.amount.setSingleStep(0.1)
        self.amount.setDecimals(2)
        self.amount.setValue(1.0)
        self.amount.setToolTip("How far towards the learned performance (0: the notes as opened)")
        self.timing = QCheckBox("Timing")
        self.timing.setToolTip("Also move onsets by the learned deviations (off: onsets stay on the grid)")
        for label, widget in (
            ("Part", self.part),
            ("Instrument", self.instrument),
            ("Seed", self.seed),
            (None, self.render),
            (None, self.play),
            (None, self.draw_f0),
            (None, self.clear_curves),
            (None, self.humanize),
            ("Amount", self.amount),
            (None, self.timing),
        ):
            if label:
                layout.addWidget(QLabel(label))
            layout.addWidget(widget)
        layout.addStretch(1)
