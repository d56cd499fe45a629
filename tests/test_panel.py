"""The expression panel, offscreen: real mouse drags and keystrokes on the widgets, the undo stack, the sidecar."""

from __future__ import annotations

import gc
import json
import weakref

import mido
import numpy as np
import pytest
from PyQt5.QtCore import QEvent, QPoint, QPointF, QSettings, Qt
from PyQt5.QtGui import QMouseEvent, QWheelEvent
from PyQt5.QtWidgets import QApplication

from readdsp.core.expression_io import load_expression
from readdsp.ui.app import open_panel
from readdsp.ui.sidecar import sidecar_path

pytest.importorskip("pytestqt")

PITCHES = (60, 62, 64, 65)
NOTE_S = 0.4


@pytest.fixture
def song(tmp_path):
    """A violin line of four notes, 1.6 s: tiny renders."""
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0))
    track.append(mido.Message("program_change", program=40, time=0))
    for pitch in PITCHES:
        track.append(mido.Message("note_on", note=pitch, velocity=90, time=0))
        track.append(mido.Message("note_off", note=pitch, time=384))  # 0.4 s at 120 bpm
    midi.tracks.append(track)
    path = tmp_path / "song.mid"
    midi.save(path)
    return path


@pytest.fixture
def open_window(qtbot, random_bundle, tmp_path):
    def opened(song, expression=None):
        settings = QSettings(str(tmp_path / "panel.ini"), QSettings.IniFormat)
        window = open_panel(song, str(random_bundle), tmp_path / "out.wav", None, settings, expression)
        qtbot.addWidget(window)
        window.resize(1000, 700)
        window.show()
        qtbot.waitExposed(window)
        QApplication.setActiveWindow(window)  # shortcuts fire only in the active window
        window.fit()
        return window

    return opened


def lane_point(lane, note_index: int, value: float) -> QPoint:
    note = lane.document.notes[note_index]
    return QPoint(int(lane.x_of((note.onset + note.offset) / 2)), int(lane.y_of(value)))


def drag(qtbot, widget, points: list[QPoint], modifier=Qt.NoModifier) -> None:
    qtbot.mousePress(widget, Qt.LeftButton, modifier, points[0])
    for point in points[1:]:  # QTest's mouseMove carries no buttons in Qt 5, so send the drag's moves as events
        move = QMouseEvent(QEvent.MouseMove, QPointF(point), Qt.NoButton, Qt.LeftButton, modifier)
        QApplication.sendEvent(widget, move)
    qtbot.mouseRelease(widget, Qt.LeftButton, modifier, points[-1])


def volumes(window) -> np.ndarray:
    return np.array([note.expression[0] for note in window.document.notes])


def test_drawing_across_notes_in_a_lane_is_one_undo_step(qtbot, song, open_window):
    window = open_window(song)
    lane = window.lanes["volume"]
    before = volumes(window)
    drag(qtbot, lane, [lane_point(lane, i, 0.9) for i in range(3)])
    after = volumes(window)
    assert np.allclose(after[:3], 0.9, atol=0.03)
    assert after[3] == before[3]
    assert window.document.undo_stack.count() == 1
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert np.array_equal(volumes(window), before)
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert np.allclose(volumes(window)[:3], 0.9, atol=0.03)


def test_drag_past_the_lane_keeps_values_in_range(qtbot, song, open_window):
    window = open_window(song)
    lane = window.lanes["attack"]
    top, bottom = lane_point(lane, 0, 0.5), lane_point(lane, 1, 0.5)
    drag(qtbot, lane, [QPoint(top.x(), -40), QPoint(bottom.x(), lane.height() + 40)])
    attack = [note.expression[4] for note in window.document.notes[:2]]
    assert attack == [1.0, 0.0]


def test_selection_by_click_shift_click_and_rubber_band(qtbot, song, open_window):
    window = open_window(song)
    roll = window.piano_roll
    centre = [roll.note_rect(i).center().toPoint() for i in range(4)]
    qtbot.mouseClick(roll, Qt.LeftButton, Qt.NoModifier, centre[1])
    assert window.document.selection == {1}
    qtbot.mouseClick(roll, Qt.LeftButton, Qt.ShiftModifier, centre[3])
    assert window.document.selection == {1, 3}
    qtbot.mouseClick(roll, Qt.LeftButton, Qt.ShiftModifier, centre[1])
    assert window.document.selection == {3}
    left = QPoint(int(roll.note_rect(0).left()) - 3, int(roll.note_rect(2).top()) - 5)  # pitches rise: note 2 on top
    right = QPoint(int(roll.note_rect(2).right()) - 3, int(roll.note_rect(0).bottom()) + 5)
    drag(qtbot, roll, [left, (left + right) / 2, right])
    assert window.document.selection == {0, 1, 2}


def test_set_scale_offset_and_reset_the_selection(qtbot, song, open_window):
    window = open_window(song)
    editor = window.editor
    qtbot.keyClick(window, Qt.Key_A, Qt.ControlModifier)
    assert window.document.selection == {0, 1, 2, 3}
    generated = np.array([note.generated for note in window.document.notes])
    editor.control.setCurrentText("brightness")
    editor.amount.setValue(0.8)
    qtbot.mouseClick(editor.buttons["set"], Qt.LeftButton)
    editor.amount.setValue(2.0)
    qtbot.mouseClick(editor.buttons["scale"], Qt.LeftButton)
    brightness = [note.expression[3] for note in window.document.notes]
    assert brightness == [1.0] * 4  # 0.8 * 2 stays in [0, 1]
    editor.amount.setValue(-0.25)
    qtbot.mouseClick(editor.buttons["offset"], Qt.LeftButton)
    assert np.allclose([note.expression[3] for note in window.document.notes], 0.75)
    assert window.document.undo_stack.count() == 3
    qtbot.mouseClick(editor.reset, Qt.LeftButton)
    assert np.allclose([note.expression for note in window.document.notes], generated)
    assert window.document.edited_count() == 0
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert np.allclose([note.expression[3] for note in window.document.notes], 0.75)


def test_edits_go_to_the_sidecar_and_come_back(qtbot, song, open_window):
    window = open_window(song)
    lane = window.lanes["vibrato"]
    drag(qtbot, lane, [lane_point(lane, 2, 0.2)])
    rows = load_expression(sidecar_path(song))
    edited = [row for row in rows if "vibrato" in row]
    assert [(row["part"], row["note"], row["pitch"]) for row in edited] == [(0, 2, 64)]
    assert edited[0]["vibrato"] == pytest.approx(0.2, abs=0.03)
    window.close()
    again = open_window(song)
    assert again.document.notes[2].expression[2] == pytest.approx(0.2, abs=0.03)
    assert again.document.notes[2].generated[2] != pytest.approx(0.2, abs=0.03)
    assert "1 edited note(s) loaded" in again.status.text()


@pytest.mark.parametrize(
    "content",
    ["{not json", json.dumps({"notes": [{"part": 0, "note": 9, "volume": 0.1}]}), json.dumps({"notes": "x"})],
)
def test_a_bad_sidecar_falls_back_to_generated_and_is_kept(qtbot, song, open_window, content):
    sidecar_path(song).write_text(content)
    window = open_window(song)
    assert "using the generated expression" in window.status.text()
    assert all(not note.is_edited() for note in window.document.notes)
    lane = window.lanes["volume"]
    drag(qtbot, lane, [lane_point(lane, 0, 0.1)])
    assert sidecar_path(song).read_text() == content
    assert window.sidecar.name == "song.readdsp-expression.recovered.json"
    assert window.sidecar.exists()


def test_render_runs_on_a_worker_writes_the_wav_and_shows_curves(qtbot, song, open_window, tmp_path):
    window = open_window(song)
    window.stems = tmp_path / "stems"
    with qtbot.waitSignal(window.worker.finished, timeout=120_000):
        qtbot.keyClick(window, Qt.Key_R, Qt.ControlModifier)
    assert (tmp_path / "out.wav").exists()
    assert [path.name for path in window.stems.iterdir()] == ["Track_1_violin.wav"]
    assert window.status.text().startswith("re-rendered 1 of 1 segment(s) in 1 part(s) (0 note(s) edited")
    assert window.document.rendered[0]
    window.document.set_selection({1})
    roll = window.piano_roll
    qtbot.keyClick(window, Qt.Key_F)
    assert roll.draw_f0
    rect = roll.note_rect(1)
    drag(qtbot, roll, [rect.topLeft().toPoint(), rect.center().toPoint(), rect.bottomRight().toPoint()])
    assert len(window.document.curves[0].f0_midi) == 1
    with qtbot.waitSignal(window.worker.finished, timeout=120_000):
        qtbot.mouseClick(window.transport.render, Qt.LeftButton)
    drawn = window.document.curves[0].f0_midi[0]
    note = window.document.notes[1]
    segment = window.document.rendered[0][0]
    times = segment.times()
    inside = (times > drawn.times[0] + 0.01) & (times < drawn.times[-1] - 0.01)
    assert np.allclose(segment.f0_midi[inside], np.interp(times[inside], drawn.times, drawn.values), atol=1e-3)
    assert abs(np.median(segment.f0_midi[inside]) - note.pitch) < 1.0
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert not window.document.curves[0]


def test_an_edit_re_renders_only_the_segment_it_touches(qtbot, open_window, tmp_path):
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    track = mido.MidiTrack([mido.Message("program_change", program=40, time=0)])
    for pitch in PITCHES:  # 0.4 s notes after 0.3 s rests: four segments (a rest of 0.25 s or more cuts)
        track.append(mido.Message("note_on", note=pitch, velocity=90, time=288 if pitch != PITCHES[0] else 0))
        track.append(mido.Message("note_off", note=pitch, time=384))
    midi.tracks.append(track)
    midi.save(tmp_path / "phrases.mid")
    window = open_window(tmp_path / "phrases.mid")
    with qtbot.waitSignal(window.worker.finished, timeout=120_000):
        qtbot.keyClick(window, Qt.Key_R, Qt.ControlModifier)
    assert window.status.text().startswith("re-rendered 4 of 4 segment(s) in 1 part(s) (0 note(s) edited")
    lane = window.lanes["vibrato"]
    drag(qtbot, lane, [lane_point(lane, 2, 0.9)])
    with qtbot.waitSignal(window.worker.finished, timeout=120_000):
        qtbot.keyClick(window, Qt.Key_R, Qt.ControlModifier)
    assert window.status.text().startswith("re-rendered 1 of 4 segment(s) in 1 part(s) (1 note(s) edited")


def test_play_says_no_audio_device_when_there_is_none(qtbot, song, open_window):
    window = open_window(song)
    if window.player.available:
        pytest.skip("this machine has an audio device")
    assert window.transport.play.text() == "No audio device"
    qtbot.keyClick(window, Qt.Key_Space)
    assert window.status.text().startswith("no audio device")


def test_help_overlay_lists_every_shortcut(qtbot, song, open_window):
    window = open_window(song)
    qtbot.keyClick(window, Qt.Key_F1)
    assert window.help.isVisible()
    assert {action.shortcut().toString() for action in window.actions.values()} >= {"Ctrl+R", "Space", "F1"}


def test_a_closed_window_is_freed_by_its_last_reference_not_by_the_cycle_collector(qtbot, song, open_window):
    """A window held in a reference cycle (a lambda slot using it) is deleted, widgets and all, whenever the cycle
    collector next runs: even inside a paint event of its own help overlay, which then crashed in drawText."""
    window = open_window(song)
    qtbot.keyClick(window, Qt.Key_F1)  # the overlay shown: the widget that was being painted when it crashed
    alive = weakref.ref(window)
    gc.collect()
    gc.disable()
    try:
        window.close()
        del window
        assert alive() is None
    finally:
        gc.enable()


def two_part_song(tmp_path):
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    for program, pitches in ((40, (67, 69)), (42, (48, 50, 52))):
        track = mido.MidiTrack()
        track.append(mido.Message("program_change", program=program, time=0))
        for pitch in pitches:
            track.append(mido.Message("note_on", note=pitch, velocity=90, time=0))
            track.append(mido.Message("note_off", note=pitch, time=240))
        midi.tracks.append(track)
    path = tmp_path / "duet.mid"
    midi.save(path)
    return path


def test_part_picker_instrument_picker_zoom_and_settings(qtbot, open_window, tmp_path):
    window = open_window(two_part_song(tmp_path))
    labels = [window.transport.part.itemText(i) for i in range(window.transport.part.count())]
    assert labels == ["Track 1 (violin)", "Track 2 (cello)"]
    qtbot.keyClick(window, Qt.Key_Down, Qt.ControlModifier)
    assert [note.pitch for note in window.document.notes] == [48, 50, 52]
    lane = window.lanes["volume"]
    drag(qtbot, lane, [lane_point(lane, 0, 0.95)])
    instruments = [window.transport.instrument.itemData(i) for i in range(window.transport.instrument.count())]
    assert [choice.instrument for choice in instruments[:5]] == [None, "violin", "cello", "flute", "clarinet"]
    generated = window.document.notes[1].generated.copy()
    window.transport.instrument.setCurrentIndex(3)  # every part on the flute: expression regenerated, edits kept
    assert window.transport.part.itemText(1) == "Track 2 (flute)"
    assert window.document.notes[0].expression[0] == pytest.approx(0.95, abs=0.03)
    assert not np.array_equal(window.document.notes[1].generated, generated)
    zoom = window.axis.px_per_s
    qtbot.keyClick(window, Qt.Key_Equal, Qt.ControlModifier)
    assert window.axis.px_per_s == pytest.approx(zoom * 1.5)
    window.close()
    assert QSettings(str(tmp_path / "panel.ini"), QSettings.IniFormat).value("geometry") is not None


def wheel(widget, steps: int, modifier=Qt.NoModifier) -> None:
    """Real wheel events (120 units a notch) over the middle of `widget`."""
    at = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        at,
        widget.mapToGlobal(at.toPoint()),
        QPoint(),
        QPoint(0, 120 * steps),
        Qt.NoButton,
        modifier,
        Qt.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_wheel_scrolls_and_ctrl_wheel_zooms_every_view_together(qtbot, song, open_window):
    window = open_window(song)
    roll, lane = window.piano_roll, window.lanes["vibrato"]
    zoom = window.axis.px_per_s
    wheel(roll, 1, Qt.ControlModifier)
    assert window.axis.px_per_s == pytest.approx(zoom * 1.25)
    before = window.axis.offset_s  # the zoom kept the time under the pointer in place
    wheel(lane, -2)  # down: later in time, in the lane as in the roll (one shared axis)
    assert window.axis.offset_s - before == pytest.approx(120.0 / window.axis.px_per_s)
    assert window.scrollbar.value() == int(window.axis.offset_s * 100)  # the scrollbar follows (0.01 s steps)
    assert roll.x_of(1.0) == lane.x_of(1.0) == window.ruler.x_of(1.0)


def test_a_bad_expression_file_falls_back_to_generated_and_is_kept(qtbot, song, open_window, tmp_path):
    bad = tmp_path / "edits.json"
    bad.write_text(json.dumps({"notes": [{"part": 0, "note": 1, "pitch": 99, "volume": 0.1}]}))
    window = open_window(song, bad)
    assert "has pitch 62, the file says 99" in window.status.text()
    assert all(not note.is_edited() for note in window.document.notes)
    lane = window.lanes["volume"]
    drag(qtbot, lane, [lane_point(lane, 1, 0.1)])
    assert json.loads(bad.read_text())["notes"][0]["pitch"] == 99
    assert window.sidecar == sidecar_path(song)


def test_drawn_loudness_is_one_undo_step(qtbot, song, open_window):
    window = open_window(song)
    lane = window.loudness
    points = [QPoint(int(lane.x_of(t)), int(lane.y_of(-12.0))) for t in (0.1, 0.3, 0.5)]
    drag(qtbot, lane, points)
    (curve,) = window.document.curves[0].loudness_db
    assert curve.times[0] == pytest.approx(0.1, abs=0.02)
    assert np.allclose(curve.values, -12.0, atol=1.5)  # about 1 dB per pixel
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert not window.document.curves[0]
