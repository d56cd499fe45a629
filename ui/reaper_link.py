"""The panel connected to REAPER: the item comes from the engine, edits go to the take's P_EXT, Render to take.

The panel never talks to REAPER itself: every request goes to the engine over OSC (`ui/engine_client.py`), which
is the only process using reapy. Payloads travel as files (`reaper_ext/panel_link.py`). With "Follow" (the
selection) on, the panel asks the engine which MIDI take is selected every `POLL_MS` (REAPER has no selection
callback); the engine logs those polls.
"""

from __future__ import annotations

import select
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from PyQt5.QtCore import QObject, QTimer, pyqtSignal
from PyQt5.QtWidgets import QCheckBox, QPushButton

from readdsp.core.atomic import write_bytes, write_json
from readdsp.core.errors import ReaDDSPError
from readdsp.core.expression_io import apply_take_expression, expression_text
from readdsp.core.performance import Performance
from readdsp.reaper_ext.panel_link import LinkedItem, NoteRow, notes_document, read_item_file
from readdsp.ui.engine_client import EngineClient, Reply

POLL_MS = 1000
CLOSE_WAIT_S = 30.0
PUMP_MS = 40


def fetch_item(client: EngineClient, take: str | None = None) -> LinkedItem:
    """The MIDI take `take` (default: the one selected in REAPER), read through the engine."""
    if not take:
        take = client.call("selected", timeout=30).get("take", "")
        if not take:
            raise ReaDDSPError("select a MIDI item in REAPER first")
    path = Path(client.call("item", take, timeout=60)["file"])
    try:
        return read_item_file(path)
    finally:
        path.unlink(missing_ok=True)


class ReaperLink(QObject):
    """One take's connection. `take_selected(guid)` when Follow selection sees another MIDI take."""

    take_selected = pyqtSignal(str)
    stored = pyqtSignal(str)  # the status line after each store
    rendered = pyqtSignal(str)
    humanized = pyqtSignal(str, str)  # (status line, the new MIDI take's GUID or "" on failure)
    take_replaced = pyqtSignal(str)  # the panel's notes now live in this take: reopen on it

    def __init__(self, client: EngineClient, item: LinkedItem):
        super().__init__()
        self.client, self.item = client, item
        self.last_text = ""  # what the take holds (as this panel last saw or stored it)
        self.writable = True  # False while the take's saved expression is unreadable (kept until an explicit save)
        self.folder = Path(tempfile.mkdtemp(prefix="readdsp-panel-"))
        self._pump = QTimer(self)
        self._pump.timeout.connect(self.client.pump)
        self._pump.start(PUMP_MS)
        self._poll = QTimer(self)
        self._poll.timeout.connect(self.poll)
        self._polling = False
        self._storing = 0  # stores sent and not answered yet

    # --- saved expression
    def load(self, performance: Performance) -> str | None:
        """Apply the take's saved expression; a message for unmatched rows, or for unreadable data (then the
        generated values stay and nothing is stored over it until an explicit save)."""
        trial = performance.copy()
        self.last_text = expression_text(performance)
        try:
            messages = apply_take_expression(trial, self.item.expression, self.item.name)
        except ReaDDSPError as err:
            self.writable = False
            return f"{err}; using the generated expression; the take data is kept as it is until you save (Ctrl+S)"
        for part, edited in zip(performance.parts, trial.parts, strict=True):
            for note, new in zip(part.notes, edited.notes, strict=True):
                note.expression = new.expression
        self.last_text = expression_text(performance)
        return "; ".join(messages) or None

    def store(self, performance: Performance, force: bool = False) -> bool:
        """Send the edited notes' rows to the take's P_EXT (asynchronously); False if not stored (unreadable data)."""
        if not (self.writable or force):
            return False
        text = expression_text(performance)
        if text == self.last_text and not force:  # nothing changed: no P_EXT write, no undo point
            return True
        self.writable, self.last_text = True, text
        path = self.folder / f"expression-{uuid.uuid4().hex[:8]}.json"
        write_bytes(path, text.encode("utf-8"))

        def done(reply: Reply) -> None:
            self._storing -= 1
            path.unlink(missing_ok=True)
            self.stored.emit(f"could not save edits: {reply.error}" if reply.error else "")

        self._storing += 1
        self.client.send("store_expression", self.item.take, str(path), on_reply=done)
        return True

    # --- render into a new take
    def render_to_take(self, instrument: str | None, seed: int, progress=None) -> None:
        def done(reply: Reply) -> None:
            if reply.error:
                self.rendered.emit(f"render to take failed: {reply.error}")
            else:
                takes = (reply.summary or {}).get("takes", [])
                names = ", ".join(t["item"] for t in takes) or "no take"
                self.rendered.emit(f"new take in REAPER: {names} ({reply.summary.get('seconds', 0):.1f} s)")

        self.client.send("render_item", self.item.take, instrument or "", seed, on_reply=done, progress=progress)

    # --- humanized notes into a new MIDI take
    def humanize_to_take(self, original: Performance, written: Performance, performance: Performance) -> None:
        """Ask the engine to make `written`'s notes (changed from `original`, the item as opened) a new MIDI take
        of this take's item, exactly as the panel shows them, with `performance`'s edits as its saved expression."""
        rows = [
            NoteRow(new_part.channel, old.pitch, old.onset, int(new.velocity), new.onset, new.offset)
            for old_part, new_part in zip(original.parts, written.parts, strict=True)
            for old, new in zip(old_part.notes, new_part.notes, strict=True)
            if not new_part.is_drum and (old.velocity, old.onset, old.offset) != (new.velocity, new.onset, new.offset)
        ]
        path = self.folder / f"notes-{uuid.uuid4().hex[:8]}.json"
        write_json(path, notes_document(rows, expression_text(performance)))

        def done(reply: Reply) -> None:
            path.unlink(missing_ok=True)
            if reply.error:
                self.humanized.emit(f"could not make the humanized take: {reply.error}", "")
                return
            take = ((reply.summary or {}).get("takes") or [{}])[0]
            self.humanized.emit(
                f"new MIDI take in REAPER: {take.get('item', '?')} ({take.get('notes', 0)} note(s) humanized); "
                "the original take is kept",
                take.get("take", ""),
            )

        self.client.send("humanize_notes", self.item.take, str(path), on_reply=done)

    # --- follow the selection
    def follow(self, on: bool) -> None:
        if on:
            self._poll.start(POLL_MS)
        else:
            self._poll.stop()

    def poll(self) -> None:
        if self._polling:  # one poll at a time: a busy engine is never flooded
            return
        self._polling = True

        def done(reply: Reply) -> None:
            self._polling = False
            take = (reply.summary or {}).get("take", "")
            if take and take != self.item.take:
                self.take_selected.emit(take)

        self.client.send("selected", on_reply=done)

    def close(self) -> None:
        """Stop polling; wait (at most `CLOSE_WAIT_S`) for the edits in flight to be stored, then drop their files."""
        self._poll.stop()
        self._pump.stop()
        deadline = time.monotonic() + CLOSE_WAIT_S
        while self._storing and time.monotonic() < deadline:
            select.select([self.client.socket], [], [], 0.05)
            self.client.pump()
        shutil.rmtree(self.folder, ignore_errors=True)

    def attach(self, window) -> None:
        """Add the connected controls to a PanelWindow's transport bar."""
        transport = window.transport
        window.render_take = QPushButton("Render to take")
        window.render_take.setToolTip("Render this item into a new take in REAPER, through the engine (one undo)")
        window.follow = QCheckBox("Follow")
        tip = f"Follow the selection: open the MIDI item selected in REAPER (polled each {POLL_MS} ms)"
        window.follow.setToolTip(tip)
        layout = transport.layout()
        layout.insertWidget(layout.count() - 1, window.render_take)
        layout.insertWidget(layout.count() - 1, window.follow)
        window.follow.toggled.connect(self.follow)
