"""Humanize in the expression panel, offscreen: the shortcut and button, one undo step, the expression lanes, and
saving (a new MIDI file beside the original, or a new MIDI take in REAPER through the engine)."""

from __future__ import annotations

import json

import mido
import numpy as np
import pytest
import rpp
import test_panel
import test_panel_reaper
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication
from test_panel import drag, lane_point
from test_panel_reaper import saved_items, settle, undo_history

from readdsp.core.midi_io import read_midi
from readdsp.ui.humanize_edit import humanized_midi_path
from readdsp.ui.sidecar import sidecar_path

pytest.importorskip("pytestqt")

# the fixtures the panel tests use: a four-note violin song and its window, an engine on the REAPER simulator
song, open_window = test_panel.song, test_panel.open_window
linked, panel, renderer = test_panel_reaper.linked, test_panel_reaper.panel, test_panel_reaper.renderer


def notes_of(window) -> list[tuple[int, float, float, int]]:
    return [(n.pitch, n.onset, n.offset, n.velocity) for n in window.document.notes]


def controls_of(window) -> list[tuple]:
    return [(tuple(n.expression), None if n.generated is None else tuple(n.generated)) for n in window.document.notes]


def press_humanize(qtbot, window) -> None:
    qtbot.keyClick(window, Qt.Key_H, Qt.ControlModifier)


def test_humanize_changes_velocities_and_durations_deterministically_and_undo_restores_exactly(
    qtbot, song, open_window
):
    window = open_window(song)
    lane = window.lanes["vibrato"]
    drag(qtbot, lane, [lane_point(lane, 2, 0.9)])  # the user's own edit on note 2
    before_notes, before_controls = notes_of(window), controls_of(window)
    window.transport.seed.setValue(7)
    steps = window.document.undo_stack.count()
    press_humanize(qtbot, window)
    assert window.document.undo_stack.count() == steps + 1  # one undo step
    after = notes_of(window)
    assert [(p, on) for p, on, _, _ in after] == [(p, on) for p, on, _, _ in before_notes]  # pitches, onsets kept
    assert [v for *_, v in after] != [v for *_, v in before_notes]  # learned velocities
    assert [off for _, _, off, _ in after] != [off for _, _, off, _ in before_notes]  # learned durations
    notes = window.document.notes
    assert notes[2].expression[2] == pytest.approx(0.9, abs=0.03)  # the edit stays on its note
    assert notes[2].is_edited() and window.document.edited_count() == 1
    assert not any(np.array_equal(n.generated, g) for n, (_, g) in zip(notes, before_controls, strict=True))
    assert all(np.array_equal(n.expression, n.generated) for i, n in enumerate(notes) if i != 2)  # regenerated
    assert "[humanized, not saved]" in window.windowTitle() and "Ctrl+S writes song.humanized.mid" in (
        window.status.text()
    )
    window.document.undo_stack.undo()  # Ctrl+Z: the notes and every control exactly as they were
    assert notes_of(window) == before_notes and controls_of(window) == before_controls
    assert "not saved" not in window.windowTitle()
    window.document.undo_stack.redo()
    assert notes_of(window) == after
    # the same seed gives the same notes; another seed other velocities
    window.document.undo_stack.undo()
    press_humanize(qtbot, window)
    assert notes_of(window) == after
    window.document.undo_stack.undo()
    window.transport.seed.setValue(8)
    qtbot.mouseClick(window.transport.humanize, Qt.LeftButton)
    assert notes_of(window) != after


def test_humanize_the_selection_only_and_timing_moves_onsets(qtbot, song, open_window):
    window = open_window(song)
    before = notes_of(window)
    piano = window.piano_roll
    window.document.set_selection({1, 2})
    window.transport.timing.setChecked(True)
    press_humanize(qtbot, window)
    after = notes_of(window)
    assert after[0] == before[0] and after[3] == before[3]  # outside the selection: untouched
    assert [n[0] for n in after] == [n[0] for n in before]
    assert any(a[1] != b[1] for a, b in zip(after[1:3], before[1:3], strict=True))  # timing: onsets move
    assert piano.isVisible()
    window.transport.amount.setValue(0.0)  # amount 0 from the notes as opened: the notes come back
    press_humanize(qtbot, window)
    assert notes_of(window) == before


def test_standalone_save_writes_a_new_midi_file_and_keeps_the_original(qtbot, song, open_window, tmp_path):
    original_bytes = song.read_bytes()
    window = open_window(song)
    lane = window.lanes["volume"]
    drag(qtbot, lane, [lane_point(lane, 1, 0.2)])
    sidecar = sidecar_path(song)
    sidecar_before = sidecar.read_bytes()
    press_humanize(qtbot, window)
    lane = window.lanes["attack"]
    drag(qtbot, lane, [lane_point(lane, 3, 0.1)])  # an edit of a humanized note: not saved to SONG's sidecar
    assert sidecar.read_bytes() == sidecar_before
    target = humanized_midi_path(song)
    assert not target.exists()
    qtbot.keyClick(window, Qt.Key_S, Qt.ControlModifier)
    assert song.read_bytes() == original_bytes  # the user's MIDI is never written
    assert sidecar.read_bytes() == sidecar_before
    assert target.exists() and window.windowTitle().endswith("song.humanized.mid")
    saved = read_midi(target)
    assert [(n.pitch, n.velocity) for n in saved.parts[0].notes] == [(p, v) for p, _, _, v in notes_of(window)]
    assert [n.offset for n in saved.parts[0].notes] == pytest.approx([n[2] for n in notes_of(window)], abs=2e-3)
    original, written = mido.MidiFile(song), mido.MidiFile(target)

    def others(midi: mido.MidiFile) -> list[list]:  # every event but the notes (end of track may move later)
        return [[m.copy(time=0) for m in t if m.type not in ("note_on", "note_off")] for t in midi.tracks]

    assert others(original) == others(written)
    rows = [r for r in json.loads(sidecar_path(target).read_text())["notes"] if "volume" in r]
    assert [(r["note"], r["pitch"]) for r in rows] == [(1, 62), (3, 65)]
    assert rows[1]["attack"] == pytest.approx(0.1, abs=0.03)
    lane = window.lanes["brightness"]  # later edits go to the humanized file's sidecar
    drag(qtbot, lane, [lane_point(lane, 0, 0.7)])
    assert sum("volume" in r for r in json.loads(sidecar_path(target).read_text())["notes"]) == 3
    assert sidecar.read_bytes() == sidecar_before and song.read_bytes() == original_bytes
    reopened = open_window(target)  # the humanized file opens with its edits
    assert reopened.document.edited_count() == 3


def test_connected_humanize_makes_a_new_midi_take_in_one_undo_point(qtbot, linked, panel):
    sim, engine = linked
    original = saved_items(sim, engine)[0]
    window = panel()
    QApplication.setActiveWindow(window)  # shortcuts fire only in the active window
    before = notes_of(window)
    replaced: list[str] = []
    window.link.take_replaced.connect(replaced.append)
    window.transport.seed.setValue(3)
    press_humanize(qtbot, window)
    shown = notes_of(window)
    assert shown != before and [n[:2] for n in shown] == [n[:2] for n in before]
    assert undo_history(engine) == []  # nothing reaches REAPER before the save
    with qtbot.waitSignal(window.link.humanized, timeout=60_000) as signal:
        qtbot.keyClick(window, Qt.Key_S, Qt.ControlModifier)
    assert signal.args[0].startswith("new MIDI take in REAPER: line"), signal.args
    item = saved_items(sim, engine)[0]
    assert len(item.takes) == 2 and item.active_index == 1
    assert rpp.dumps(item.takes[0].source) == rpp.dumps(original.takes[0].source)  # the original take is kept
    assert item.takes[1].ext()["readdsp_humanized_from"] == item.takes[0].guid
    assert undo_history(engine) == ["ReaDDSP: humanize MIDI item (expression panel)"]
    assert replaced == [item.takes[1].guid] and "not saved" not in window.windowTitle()
    again = panel(replaced[0])  # what the app reopens: REAPER holds exactly what the panel showed
    assert [(p, v) for p, _, _, v in notes_of(again)] == [(p, v) for p, _, _, v in shown]
    assert [n[2] for n in notes_of(again)] == pytest.approx([n[2] for n in shown], abs=2e-3)
    assert [n[1] for n in notes_of(again)] == pytest.approx([n[1] for n in shown], abs=1e-9)
    settle(qtbot, window)
