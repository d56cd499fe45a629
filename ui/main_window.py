"""The expression panel's window: assembles the views, binds the shortcuts, renders on a worker, saves edits."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from PyQt5.QtCore import QSettings, Qt, QTimer
from PyQt5.QtGui import QGuiApplication
from PyQt5.QtWidgets import (
    QAction,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollBar,
    QVBoxLayout,
    QWidget,
)

from readdsp.core.atomic import write_wav
from readdsp.core.errors import ReaDDSPError
from readdsp.core.midi_note_edit import save_midi_with_notes
from readdsp.core.output_path import safe_file_stem
from readdsp.core.performance import CONTROL_NAMES, Performance
from readdsp.ui.document import PanelDocument, adopt_generated
from readdsp.ui.expression_lane import ExpressionLane
from readdsp.ui.help_overlay import HelpOverlay
from readdsp.ui.humanize_edit import humanized_midi_path
from readdsp.ui.instruments import InstrumentChoice
from readdsp.ui.loudness_lane import LoudnessLane
from readdsp.ui.piano_roll import PianoRoll
from readdsp.ui.playback import Player
from readdsp.ui.reaper_link import ReaperLink
from readdsp.ui.render_backend import PanelRender, RenderBackend
from readdsp.ui.render_worker import RenderWorker
from readdsp.ui.ruler import TimeRuler
from readdsp.ui.selection_editor import SelectionEditor
from readdsp.ui.shortcuts import SHORTCUTS
from readdsp.ui.sidecar import load_edits, save_edits, save_edits_as_read, sidecar_path
from readdsp.ui.time_view import GUTTER
from readdsp.ui.timeline import TimeAxis
from readdsp.ui.transport_bar import TransportBar

SCROLL_UNITS_PER_S = 100


class PanelWindow(QMainWindow):
    """One MIDI file's expression panel. `backend_for(bundle)` gives the RenderBackend of a bundle."""

    def __init__(
        self,
        performance: Performance,
        backend_for: Callable[[Path], RenderBackend],
        choices: list[InstrumentChoice],
        sidecar: Path | None = None,
        output: Path | None = None,
        stems: Path | None = None,
        settings: QSettings | None = None,
        expression: Path | None = None,
        link: ReaperLink | None = None,
    ):
        super().__init__()
        self.link = link
        self.midi = Path(performance.source) if link is None and performance.source else None  # never written
        self.saved_to: Path | None = None  # the humanized MIDI file the panel saved its notes to
        self.source, self.backend_for, self.choices = performance, backend_for, choices
        self.sidecar, self.output, self.stems = sidecar, output, stems
        self.settings = settings or QSettings("ReaDDSP", "expression-panel")
        self.choice = choices[0]
        self.backend = backend_for(self.choice.bundle)
        plan = adopt_generated(self.backend.prepare(performance, self.choice.instrument))
        self.document = PanelDocument(plan, performance)
        self.document.rendered = {}
        self.last_render: PanelRender | None = None
        if link is not None:  # connected: the take's saved expression, not a sidecar
            self.sidecar_message = link.load(self.document.plan.performance)
        else:
            self.sidecar_message = self._load_edits(expression)
        self.player = Player()
        self._playback_timer = QTimer(self)
        self._playback_timer.setSingleShot(True)
        self._playback_timer.timeout.connect(self._playback_ended)
        self.worker = RenderWorker(self.backend, self)
        self.axis = TimeAxis()
        self._build()
        self._bind_shortcuts()
        self._connect()
        self.restoreGeometry(self.settings.value("geometry", b""))
        self.restoreState(self.settings.value("state", b""))
        if link is not None:
            self._connect_reaper(link)
        self._update_title()
        if self.sidecar_message:
            self.say(self.sidecar_message)

    # --- construction
    def _build(self) -> None:
        self.transport = TransportBar(self.choices)
        self.ruler = TimeRuler(self.document, self.axis, self.link.item.bars if self.link is not None else ())
        self.piano_roll = PianoRoll(self.document, self.axis)
        self.loudness = LoudnessLane(self.document, self.axis)
        self.lanes = {name: ExpressionLane(self.document, self.axis, name) for name in CONTROL_NAMES}
        self.scrollbar = QScrollBar(Qt.Horizontal)
        self.editor = SelectionEditor(self.document)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(1)
        layout.addWidget(self.transport)
        layout.addSpacing(4)
        for widget in (self.ruler, self.piano_roll, self.loudness, *self.lanes.values(), self.scrollbar):
            layout.addWidget(widget)
        layout.addSpacing(4)
        layout.addWidget(self.editor)
        self.setCentralWidget(central)
        self.status = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self.help = HelpOverlay(central)
        self.transport.part.addItems(self.document.part_labels())
        if not self.player.available:
            self.transport.play.setText("No audio device")
            self.transport.play.setEnabled(False)
            self.transport.play.setToolTip(self.player.reason)
        self.resize(1400, 900)

    def _bind_shortcuts(self) -> None:
        handlers = {
            "render": self.render,
            "play": self.toggle_play,
            "undo": self.document.undo_stack.undo,
            "redo": self.document.undo_stack.redo,
            "select_all": self.select_all,
            "reset": self.reset_to_generated,
            "save": self.save,
            "zoom_in": self.zoom_in,
            "zoom_out": self.zoom_out,
            "fit": self.fit,
            "draw_f0": self.transport.draw_f0.toggle,
            "clear_curves": self.document.clear_curves,
            "humanize": self.humanize,
            "next_part": self.next_part,
            "previous_part": self.previous_part,
            "help": self.help.toggle,
        }
        # bound methods only: PyQt holds a lambda slot strongly, so a lambda using `self` would keep the window in
        # a reference cycle, and the cycle collector could then delete it at any moment, even inside a paint event
        self.actions: dict[str, QAction] = {}
        for name, keys, text in SHORTCUTS:
            action = QAction(text, self)
            action.setShortcut(keys)
            action.setShortcutContext(Qt.WindowShortcut)
            action.triggered.connect(handlers[name])
            self.addAction(action)
            self.actions[name] = action

    def _connect(self) -> None:
        t = self.transport
        t.part.currentIndexChanged.connect(self.document.select_part)
        t.instrument.currentIndexChanged.connect(self.choose_instrument)
        t.render.clicked.connect(self.render)
        t.play.clicked.connect(self.toggle_play)
        t.draw_f0.toggled.connect(self._set_draw_f0)
        t.clear_curves.clicked.connect(self.document.clear_curves)
        t.humanize.clicked.connect(self.humanize)
        self.document.undo_stack.indexChanged.connect(self._update_title)
        self.document.undo_stack.indexChanged.connect(self.autosave)  # edits only, not renders
        self.document.part_changed.connect(self._update_scrollbar)
        self.axis.changed.connect(self._update_scrollbar)
        self.scrollbar.valueChanged.connect(self._scrolled)
        self.worker.progress.connect(self._progress)
        self.worker.finished.connect(self._rendered)
        self.worker.failed.connect(self._render_failed)

    # --- sidecar
    def _load_edits(self, expression: Path | None) -> str | None:
        """Apply the edits of `expression` (an imported file) or else the sidecar; a bad file is reported and kept
        as it is (a bad sidecar also stops receiving edits: they go to a .recovered.json beside it)."""
        source = expression or self.sidecar
        if source is None:
            return None
        changed, problem = load_edits(self.document.plan.performance, source)
        if problem and source == self.sidecar:
            self.sidecar = source.with_name(source.name.replace(".json", ".recovered.json"))
            return f"{problem}; edits now go to {self.sidecar.name}"
        if problem:
            return problem
        return f"{changed} edited note(s) loaded from {source.name}" if changed else None

    def _connect_reaper(self, link: ReaperLink) -> None:
        link.attach(self)
        self.transport.seed.setValue(link.item.seed)
        saved = next((i for i, c in enumerate(self.choices) if c.instrument == link.item.instrument), None)
        if link.item.instrument and saved is not None:
            self.transport.instrument.setCurrentIndex(saved)
        self.render_take.clicked.connect(self.render_to_take)
        link.stored.connect(self._stored)
        link.rendered.connect(self._rendered_take)
        link.humanized.connect(self._humanized_take)

    def render_to_take(self) -> None:
        """Save the edits to the take, then have the engine render the item into a new take (one undo point)."""
        if self.link is None:
            return
        if not self.link.writable:
            self.say("the take's saved expression is unreadable: save (Ctrl+S) to replace it before rendering")
            return
        self.link.store(self.document.plan.performance)
        self.link.render_to_take(self.choice.instrument, self.transport.seed.value(), self._take_progress)
        self.render_take.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.say("rendering into a new take in REAPER...")

    def _take_progress(self, done: float, total: float) -> None:
        self._progress(int(done * 100), int(total * 100))

    def _stored(self, message: str) -> None:
        if message:
            self.say(message)

    def _rendered_take(self, message: str) -> None:
        self.render_take.setEnabled(True)
        self.progress.hide()
        self.say(message)

    def _humanized_take(self, message: str, take: str) -> None:
        self.progress.hide()
        self.say(message)
        if take:
            self.document.mark_saved()
            self._update_title()
            self.link.take_replaced.emit(take)  # the app reopens the panel on the new take

    def autosave(self, *_: object) -> None:
        if self.document.notes_unsaved():  # edits of notes not saved yet belong to no file or take yet
            return
        if self.link is not None:
            try:
                self.link.store(self.document.plan.performance)
            except (OSError, ReaDDSPError) as err:
                self.say(f"could not save edits: {err}")
            return
        if self.sidecar is not None:
            try:
                save_edits(self.document.plan.performance, self.sidecar)
            except (OSError, ReaDDSPError) as err:
                self.say(f"could not save edits: {err}")

    def save(self) -> None:
        if self.document.notes_unsaved():
            self.save_notes()
            return
        if self.link is not None:
            try:
                self.link.store(self.document.plan.performance, force=True)
            except (OSError, ReaDDSPError) as err:
                self.say(f"could not save edits: {err}")
                return
            self.say(f"{self.document.edited_count()} edited note(s) saved to the take in REAPER")
            return
        self.autosave()
        if self.sidecar is not None:
            self.say(f"{self.document.edited_count()} edited note(s) saved to {self.sidecar}")

    # --- humanize
    def humanize(self) -> None:
        """Humanize the selected notes (else the part) with the amount, seed and timing of the transport bar."""
        t = self.transport
        instrument = self.choice.instrument
        try:
            count = self.document.humanize(
                t.amount.value(),
                t.timing.isChecked(),
                t.seed.value(),
                lambda performance: self.backend.prepare(performance, instrument),
            )
        except ReaDDSPError as err:
            self.say(f"cannot humanize: {err}")
            return
        where = (
            "Ctrl+S makes them a new MIDI take in REAPER"
            if self.link is not None
            else (f"Ctrl+S writes {humanized_midi_path(self.midi).name}" if self.midi is not None else "not saved")
        )
        self.say(
            f"humanized {count} note(s): velocities and durations{', onsets' if t.timing.isChecked() else ''}; "
            f"not saved yet ({where}); Ctrl+Z undoes it"
        )

    def save_notes(self) -> None:
        """Save humanized notes: standalone, a new MIDI file beside the original (with its own sidecar), which the
        panel then edits; connected, a new MIDI take in REAPER through the engine. The original is never written."""
        performance = self.document.plan.performance
        if self.link is not None:
            self.link.humanize_to_take(self.document.original, self.document.written, performance)
            self.progress.setRange(0, 0)
            self.progress.show()
            self.say("making the humanized notes a new MIDI take in REAPER...")
            return
        if self.midi is None:
            self.say("nothing to save the notes to")
            return
        target = humanized_midi_path(self.midi)
        try:
            save_midi_with_notes(self.midi, target, self.document.written)
            self.sidecar = sidecar_path(target)
            save_edits_as_read(performance, target, self.sidecar)
        except (OSError, ReaDDSPError) as err:
            self.say(f"could not save the humanized notes: {err}")
            return
        self.document.mark_saved()
        self.saved_to = target
        self._update_title()
        self.say(
            f"humanized notes saved to {target.name} ({self.document.edited_count()} edited note(s) in "
            f"{self.sidecar.name}); {self.midi.name} is unchanged"
        )

    def _update_title(self, *_: object) -> None:
        name = (self.saved_to or Path(self.source.source or "untitled")).name
        where = " (REAPER)" if self.link is not None else ""
        unsaved = " [humanized, not saved]" if self.document.notes_unsaved() else ""
        self.setWindowTitle(f"ReaDDSP expression panel: {name}{where}{unsaved}")

    # --- actions
    def say(self, message: str) -> None:
        self.status.setText(message)

    def select_all(self) -> None:
        self.document.set_selection(set(range(len(self.document.notes))))

    def reset_to_generated(self) -> None:
        self.document.reset_to_generated()

    def zoom_in(self) -> None:
        self.axis.zoom(1.5)

    def zoom_out(self) -> None:
        self.axis.zoom(1 / 1.5)

    def next_part(self) -> None:
        self.transport.part.setCurrentIndex(self.transport.part.currentIndex() + 1)

    def previous_part(self) -> None:
        self.transport.part.setCurrentIndex(max(self.transport.part.currentIndex() - 1, 0))

    def fit(self) -> None:
        width = max(self.piano_roll.width() - GUTTER - 10, 100)
        self.axis.fit(self.document.plan.performance.duration + 0.5, width)

    def choose_instrument(self, index: int) -> None:
        choice = self.transport.instrument.itemData(index)
        if not isinstance(choice, InstrumentChoice) or choice == self.choice:
            return
        try:
            backend = self.backend_for(choice.bundle)
            plan = backend.prepare(self.document.written, choice.instrument)
        except ReaDDSPError as err:
            self.say(str(err))
            return
        self.choice, self.backend, self.worker.backend = choice, backend, backend
        self.document.replace_plan(plan)
        self.transport.part.blockSignals(True)
        self.transport.part.clear()
        self.transport.part.addItems(self.document.part_labels())
        self.transport.part.setCurrentIndex(self.document.part_index)
        self.transport.part.blockSignals(False)
        self.say(f"instrument: {choice.label()}; expression regenerated, your edits kept")

    def render(self) -> None:
        if not self.worker.start(self.document.plan, self.transport.seed.value(), self.document.curves):
            self.say("a render is already running")
            return
        self._edits_rendering = set(self.document.dirty)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.transport.render.setEnabled(False)
        self.say("rendering...")

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _rendered(self, done: PanelRender) -> None:
        self.last_render = done
        self.document.rendered = done.curves
        self.document.dirty -= self._edits_rendering
        self.progress.hide()
        self.transport.render.setEnabled(True)
        written = ""
        try:
            if self.output is not None:
                write_wav(self.output, done.result.mix, done.result.sample_rate)
                written = f" -> {self.output.name}"
            if self.stems is not None:
                for label, audio in done.result.stems.items():
                    name = f"{safe_file_stem(label)}_{done.result.instruments[label]}.wav"
                    write_wav(self.stems / name, audio, done.result.sample_rate)
                written += f" + {len(done.result.stems)} stem(s)"
        except OSError as err:
            written = f" (not written: {err})"
        self.say(
            f"re-rendered {done.segments_rendered} of {done.segments_total} segment(s) in "
            f"{len(done.result.stems)} part(s) ({len(self._edits_rendering)} note(s) edited since the last render) "
            f"in {done.seconds:.2f} s{written}"
        )
        self.document.changed.emit(self.document.part_index, set())

    def _render_failed(self, message: str) -> None:
        self.progress.hide()
        self.transport.render.setEnabled(True)
        self.say(message)

    def _playback_ended(self) -> None:
        self.transport.play.setText("Play")

    def toggle_play(self) -> None:
        if not self.player.available:
            self.say(self.player.reason)
            return
        if self.transport.play.text() == "Stop":
            self.player.stop()
            self._playback_timer.stop()
            self.transport.play.setText("Play")
        elif self.last_render is not None:
            result = self.last_render.result
            self.player.play(result.mix, result.sample_rate, self.axis.offset_s)
            self.transport.play.setText("Stop")
            remaining_ms = int(max(len(result.mix) / result.sample_rate - self.axis.offset_s, 0.0) * 1000)
            self._playback_timer.start(remaining_ms)  # the button reads "Play" again when the audio ends
        else:
            self.say("render first")
        self.transport.play.setChecked(self.transport.play.text() == "Stop")

    def _set_draw_f0(self, on: bool) -> None:
        self.piano_roll.draw_f0 = on
        self.piano_roll.setCursor(Qt.CrossCursor if on else Qt.ArrowCursor)

    def _update_scrollbar(self) -> None:
        self.scrollbar.blockSignals(True)
        visible = self.piano_roll.width() / self.axis.px_per_s
        duration = self.document.plan.performance.duration + 1.0
        self.scrollbar.setRange(0, int(max(duration - visible, 0) * SCROLL_UNITS_PER_S))
        self.scrollbar.setPageStep(int(visible * SCROLL_UNITS_PER_S))
        self.scrollbar.setValue(int(self.axis.offset_s * SCROLL_UNITS_PER_S))
        self.scrollbar.blockSignals(False)

    def _scrolled(self, value: int) -> None:
        self.axis.offset_s = value / SCROLL_UNITS_PER_S
        self.axis.changed.emit()

    def _may_discard_notes(self) -> bool:
        """Ask before closing with humanized notes not saved: Save, Discard or Cancel (offscreen: nobody to ask,
        the notes are discarded; the original is never written)."""
        if QGuiApplication.platformName() == "offscreen":
            return True
        answer = QMessageBox.question(
            self,
            "ReaDDSP expression panel",
            "The humanized notes are not saved. Save them before closing?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
            QMessageBox.Save,
        )
        if answer == QMessageBox.Save:
            self.save_notes()
        return answer != QMessageBox.Cancel

    # --- Qt events
    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not getattr(self, "_fitted", False):
            self._fitted = True
            self.fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self.help.isVisible():
            self.help.setGeometry(self.centralWidget().rect())

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self.document.notes_unsaved() and not self._may_discard_notes():
            event.ignore()
            return
        self.autosave()
        with contextlib.suppress(TypeError):  # a second close finds it disconnected already
            self.document.undo_stack.indexChanged.disconnect(self.autosave)
        self.player.stop()
        if self.link is not None:
            self.link.close()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        if self.worker.busy:
            self.worker._stop_thread()
        super().closeEvent(event)
