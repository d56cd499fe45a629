"""Velocity in the piano roll, offscreen: each note's painted fill follows its velocity, through humanize and undo."""

from __future__ import annotations

import mido
import pytest
import test_panel
from PyQt5.QtCore import QPoint, Qt
from PyQt5.QtGui import QColor, QHelpEvent
from PyQt5.QtWidgets import QApplication, QToolTip

from readdsp.ui.piano_roll import note_fill

pytest.importorskip("pytestqt")

open_window = test_panel.open_window
VELOCITIES = (30, 120, 60, 90)


@pytest.fixture
def dynamic_song(tmp_path):
    """Four violin notes, quiet and loud in turn, 1.6 s."""
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    track = mido.MidiTrack()
    track.append(mido.Message("program_change", program=40, time=0))
    for pitch, velocity in zip(test_panel.PITCHES, VELOCITIES, strict=True):
        track.append(mido.Message("note_on", note=pitch, velocity=velocity, time=0))
        track.append(mido.Message("note_off", note=pitch, time=384))
    midi.tracks.append(track)
    path = tmp_path / "dynamics.mid"
    midi.save(path)
    return path


def note_centre(piano, index: int) -> QPoint:
    return piano.note_rect(index).center().toPoint()


def painted(piano) -> list[QColor]:
    """The colour the piano roll paints at the centre of each note of the part."""
    image = piano.grab().toImage()
    return [image.pixelColor(note_centre(piano, i)) for i in range(len(piano.document.notes))]


def expected(piano) -> list[QColor]:
    selection = piano.document.selection
    return [note_fill(n.velocity, i in selection) for i, n in enumerate(piano.document.notes)]


def rgb(colors: list[QColor]) -> list[tuple[int, int, int]]:
    return [c.getRgb()[:3] for c in colors]


def test_notes_are_shaded_by_velocity_and_follow_humanize_and_undo(qtbot, dynamic_song, open_window):
    window = open_window(dynamic_song)
    piano = window.piano_roll
    assert [n.velocity for n in window.document.notes] == list(VELOCITIES)
    colors = painted(piano)
    assert rgb(colors) == rgb(expected(piano))
    lightness = [c.lightnessF() for c in colors]
    assert sorted(range(4), key=lightness.__getitem__) == [0, 2, 3, 1]  # quiet to loud: darker to lighter
    assert lightness[1] - lightness[0] > 0.15  # visibly apart
    window.document.set_selection({0})  # the quietest note selected is still brighter than the loudest other
    colors = painted(piano)
    assert colors[0].lightnessF() > max(c.lightnessF() for c in colors[1:])
    assert rgb(colors) == rgb(expected(piano))
    assert window.editor.count.text() == "1 selected, velocity 30"
    before = rgb(colors)

    window.transport.seed.setValue(7)
    qtbot.keyClick(window, Qt.Key_H, Qt.ControlModifier)  # humanize the selected note: its velocity changes
    velocity = window.document.notes[0].velocity
    assert velocity != 30
    after = rgb(painted(piano))
    assert after == rgb(expected(piano)) and after[0] != before[0] and after[1:] == before[1:]
    assert window.editor.count.text() == f"1 selected, velocity {velocity}"

    window.document.undo_stack.undo()
    assert rgb(painted(piano)) == before
    assert window.editor.count.text() == "1 selected, velocity 30"
    window.document.undo_stack.redo()
    assert rgb(painted(piano)) == after


def test_a_note_tooltip_names_pitch_velocity_and_times(qtbot, dynamic_song, open_window):
    window = open_window(dynamic_song)
    piano = window.piano_roll
    point = note_centre(piano, 1)
    QApplication.sendEvent(piano, QHelpEvent(QHelpEvent.ToolTip, point, piano.mapToGlobal(point)))
    assert QToolTip.text() == "D4, velocity 120, 0.400-0.800 s"
