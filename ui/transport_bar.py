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
    QVBoxLayout,
    QWidget,
)

from readdsp.ui.instruments import InstrumentChoice


class TransportBar(QWidget):
    def __init__(self, choices: list[InstrumentChoice], parent: QWidget | None = None):
        super().__init__(parent)
        self.part = QComboBox()
        self.part.setMinimumWidth(160)
        self.instrument = QComboBox()
        self.instrument.setSizeAdjustPolicy(QComboBox.AdjustToContents)  # the longest label shows whole
        for choice in choices:
            self.instrument.addItem(choice.label(), choice)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setMaximumWidth(120)
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
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        # Two rows, so the panel still fits a 1366-px laptop screen beside REAPER.
        playback = [("Part", self.part), ("Instrument", self.instrument), ("Seed", self.seed)]
        playback += [(None, self.render), (None, self.play)]
        editing = [(None, self.draw_f0), (None, self.clear_curves), (None, self.humanize), ("Amount", self.amount)]
        editing += [(None, self.timing)]
        for row in (playback, editing):
            layout = QHBoxLayout()
            for label, widget in row:
                if label:
                    layout.addWidget(QLabel(label))
                layout.addWidget(widget)
            layout.addStretch(1)
            rows.addLayout(layout)
