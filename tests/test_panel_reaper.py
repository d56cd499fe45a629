"""The expression panel connected to REAPER: real engine on 127.0.0.1, real reapy client, the REAPER simulator.

The panel (pytest-qt, offscreen) gets its item from the engine, saves edits in the take's P_EXT through the
engine, follows the selection by polling (visible in the engine log), and renders into a new take (one undo
point, the MIDI take untouched). The REAPER action starts `readdsp panel --reaper` once the engine answers.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import rpp
import soundfile as sf
from PyQt5.QtCore import QSettings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reaper_sim import ReaperSimulator  # noqa: E402
from reaper_sim.fixtures import midi_events, midi_item, timesig, write_project  # noqa: E402
from test_panel import drag, lane_point  # noqa: E402

from readdsp.core.expression_io import EXPRESSION_FORMAT  # noqa: E402
from readdsp.core.render import Renderer  # noqa: E402
from readdsp.reaper_ext.bridge import ReaperBridge  # noqa: E402
from readdsp.reaper_ext.engine import Engine  # noqa: E402
from readdsp.reaper_ext.install import command_id  # noqa: E402
from readdsp.reaper_ext.item_chunk import ItemChunk  # noqa: E402
from readdsp.ui.app import open_connected  # noqa: E402

pytest.importorskip("pytestqt")

PITCHES = (60, 62, 64, 65)
ACTION = "ReaDDSP_Open_expression_panel_for_selected_MIDI_item.py"


def violin_line(first_pitch_shift: int = 0) -> list[str]:
    notes = [(i * 480, i * 480 + 460, 0, p + first_pitch_shift, 90) for i, p in enumerate(PITCHES)]
    return midi_events(notes, [(0, 0xC0, 40, 0)], end_tick=4 * 480)  # program 40: violin; 0.25 s per note


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def renderer(random_bundle):
    return Renderer.load(random_bundle)


@pytest.fixture
def linked(tmp_path: Path, renderer, monkeypatch):
    """(simulator, engine) on a project with two violin items, the first selected."""
    port = free_port()
    monkeypatch.setenv("READDSP_ENGINE_PORT", str(port))  # the simulator's actions reach this engine
    project = write_project(
        tmp_path / "song.RPP",
        {
            "Violin": [
                midi_item("line", 0.0, 1.0, violin_line(), guid="{AAAAAAAA-0000-0000-0000-000000000001}"),
                midi_item("other", 2.0, 1.0, violin_line(5), selected=False, guid="{AAAAAAAA-0000-0000-0000-00000002}"),
            ]
        },
    )
    with ReaperSimulator(project) as sim:
        engine = Engine(renderer, ReaperBridge(web_port=sim.web_port), port=port, temp_dir=tmp_path / "tmp").start()
        try:
            yield sim, engine
        finally:
            engine.shutdown()


@pytest.fixture
def panel(qtbot, linked, random_bundle, tmp_path):
    windows = []

    def opened(take: str | None = None):
        settings = QSettings(str(tmp_path / "panel.ini"), QSettings.IniFormat)
        window = open_connected(linked[1].port, take, str(random_bundle), settings)
        qtbot.addWidget(window)
        window.resize(1000, 700)
        window.show()
        qtbot.waitExposed(window)
        window.fit()
        windows.append(window)
        return window

    yield opened
    for window in windows:
        window.close()


def settle(qtbot, window) -> None:
    """Wait until every request the panel sent has been answered."""
    qtbot.waitUntil(lambda: window.link.client.pending == 0, timeout=30_000)


def take_ext(engine: Engine) -> dict[str, str]:
    guid = "{AAAAAAAA-0000-0000-0000-000000000001}"
    with engine.bridge._session() as rpr:
        _, take = engine.bridge._find_take(rpr, guid)
        return engine.bridge._read_ext(rpr, take)


def saved_items(sim: ReaperSimulator, engine: Engine) -> list[ItemChunk]:
    with engine.bridge._session() as rpr:
        rpr.Main_SaveProject(0, False)
    return [ItemChunk.parse(e) for e in rpp.loads(sim.project.read_text()).findall(".//ITEM")]


def undo_history(engine: Engine) -> list[str]:
    with engine.bridge._session() as rpr:
        return rpr.Sim_UndoHistory()


def test_edits_are_saved_in_the_take_through_the_engine(qtbot, linked, panel, caplog) -> None:
    sim, engine = linked
    caplog.set_level(logging.INFO, logger="readdsp.engine")
    window = panel()
    assert [n.pitch for n in window.document.notes] == list(PITCHES)
    assert window.windowTitle().endswith("line (REAPER)")
    lane = window.lanes["volume"]
    drag(qtbot, lane, [lane_point(lane, 1, 0.9)])
    settle(qtbot, window)
    saved = json.loads(take_ext(engine)["expression"])
    assert saved["format"] == EXPRESSION_FORMAT
    assert [(r["part"], r["note"], r["pitch"], r["onset"]) for r in saved["notes"]] == [(0, 1, 62, 0.25)]
    assert saved["notes"][0]["volume"] == pytest.approx(0.9, abs=0.03)
    assert undo_history(engine) == ["ReaDDSP: edit expression"]
    log = caplog.text
    assert "selection poll 1: take {AAAAAAAA-0000-0000-0000-000000000001} (line)" in log
    assert "item " in log and "store_expression " in log
    # a second panel on the same take starts from the saved edits; the other notes keep their generated values
    again = panel("{AAAAAAAA-0000-0000-0000-000000000001}")
    assert again.document.notes[1].expression[0] == pytest.approx(saved["notes"][0]["volume"], abs=1e-4)
    assert again.document.edited_count() == 1


def test_closing_right_after_an_edit_still_stores_it(qtbot, linked, panel) -> None:
    _, engine = linked
    window = panel()
    lane = window.lanes["attack"]
    drag(qtbot, lane, [lane_point(lane, 3, 0.2)])
    window.close()  # the store is still in flight: close waits for it before dropping its file
    saved = json.loads(take_ext(engine)["expression"])
    assert [(r["note"], r["pitch"]) for r in saved["notes"]] == [(3, 65)]
    assert not window.link.folder.exists()


def test_follow_selection_polls_the_engine_and_sees_another_item(qtbot, linked, panel, caplog) -> None:
    _, engine = linked
    caplog.set_level(logging.INFO, logger="readdsp.engine")
    window = panel()
    seen: list[str] = []
    window.link.take_selected.connect(seen.append)
    window.follow.setChecked(True)
    with engine.bridge._session() as rpr:  # the user selects the other item in REAPER
        rpr.SetMediaItemSelected(rpr.GetMediaItem(0, 0), False)
        rpr.SetMediaItemSelected(rpr.GetMediaItem(0, 1), True)
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert seen[0] == "{AAAAAAAA-0000-0000-0000-00000002}"
    assert "selection poll" in caplog.text and "take {AAAAAAAA-0000-0000-0000-00000002} (other)" in caplog.text
    window.follow.setChecked(False)
    other = panel(seen[0])
    assert [n.pitch for n in other.document.notes] == [p + 5 for p in PITCHES]


def test_corrupt_take_data_falls_back_to_generated_and_is_not_overwritten(qtbot, linked, panel) -> None:
    _, engine = linked
    with engine.bridge._session() as rpr:
        _, take = engine.bridge._find_take(rpr, "{AAAAAAAA-0000-0000-0000-000000000001}")
        rpr.GetSetMediaItemTakeInfo_String(take, "P_EXT:readdsp_expression", "{not json", True)
    window = panel()
    status = window.status.text()
    assert "take data readdsp_expression is not valid JSON" in status
    assert "using the generated expression" in status and "kept as it is" in status
    assert all(np.array_equal(n.expression, n.generated) for n in window.document.notes)
    lane = window.lanes["vibrato"]
    drag(qtbot, lane, [lane_point(lane, 0, 0.1)])
    settle(qtbot, window)
    assert take_ext(engine)["expression"] == "{not json"  # kept
    window.save()  # an explicit save replaces it
    settle(qtbot, window)
    assert json.loads(take_ext(engine)["expression"])["notes"][0]["pitch"] == 60


def test_render_to_take_adds_one_audio_take_in_one_undo_point(qtbot, linked, panel) -> None:
    sim, engine = linked
    original = saved_items(sim, engine)[0]
    window = panel()
    lane = window.lanes["brightness"]
    drag(qtbot, lane, [lane_point(lane, 2, 0.8)])
    with qtbot.waitSignal(window.link.rendered, timeout=120_000) as signal:
        qtbot.mouseClick(window.render_take, 1)  # Qt.LeftButton
    assert signal.args[0].startswith("new take in REAPER: ReaDDSP: violin"), signal.args
    assert window.status.text() == signal.args[0]
    item = saved_items(sim, engine)[0]
    assert len(item.takes) == 2 and item.active_index == 1
    assert rpp.dumps(item.takes[0].source) == rpp.dumps(original.takes[0].source)  # the MIDI take is untouched
    wav = sim.project.parent / "media" / item.takes[1].source.children[0][1]
    info = sf.info(str(wav))
    assert info.frames == round(1.0 * info.samplerate)
    assert item.takes[1].ext()["readdsp_source_take"] == item.takes[0].guid
    history = undo_history(engine)
    assert history.count("ReaDDSP: render MIDI item (expression panel)") == 1
    assert set(history) == {"ReaDDSP: edit expression", "ReaDDSP: render MIDI item (expression panel)"}
    assert json.loads(item.takes[0].ext()["readdsp_expression"])["notes"][0]["note"] == 2


def test_the_ruler_counts_reapers_bars_from_its_tempo_map_and_time_signatures(
    qtbot, tmp_path: Path, renderer, random_bundle
) -> None:
    """90 bpm in 3/4 (2 s a bar), then from bar 3 (4 s) 120 bpm in 6/8 (1.5 s a bar); the item runs from the middle
    of bar 2 (3 s) to 6.5 s. The engine reads REAPER's bars, the item file carries them, the ruler shows them."""
    tempo_points = [(0.0, 90, 1, timesig(3, 4)), (4.0, 120, 1, timesig(6, 8))]
    item = midi_item("waltz", 3.0, 3.5, violin_line(), guid="{AAAAAAAA-0000-0000-0000-000000000003}")
    project = write_project(
        tmp_path / "waltz.RPP", {"Violin": [item]}, 90, time_signature=(3, 4), tempo_points=tempo_points
    )
    with ReaperSimulator(project) as sim:
        engine = Engine(renderer, ReaperBridge(web_port=sim.web_port), port=free_port(), temp_dir=tmp_path / "tmp")
        engine.start()
        try:
            settings = QSettings(str(tmp_path / "panel.ini"), QSettings.IniFormat)
            window = open_connected(engine.port, None, str(random_bundle), settings)
            qtbot.addWidget(window)
            rows = [
                (round(b.seconds, 9), b.number, b.numerator, b.denominator, round(b.bpm, 9))
                for b in window.link.item.bars
            ]
            assert rows == [(-1.0, 2, 3, 4, 90.0), (1.0, 3, 6, 8, 120.0), (2.5, 4, 6, 8, 120.0), (4.0, 5, 6, 8, 120.0)]
            performance = window.link.item.performance
            assert [(round(t, 9), bpm) for t, bpm in performance.tempo_map] == [(0.0, 90.0), (1.0, 120.0)]
            assert [(round(t, 9), n, d) for t, n, d in performance.time_signatures] == [(0.0, 3, 4), (1.0, 6, 8)]
            assert [n.onset for n in performance.parts[0].notes] == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])  # 90 bpm
            assert [(round(t, 9), n) for t, n in window.ruler.bar_times(3.0)] == [(-1.0, 2), (1.0, 3), (2.5, 4)]
            window.close()
        finally:
            engine.shutdown()


def test_the_reaper_action_starts_the_connected_panel(linked, tmp_path: Path, monkeypatch) -> None:
    sim, engine = linked
    record = tmp_path / "panel-args.txt"
    fake = tmp_path / "readdsp"  # stands in for the `readdsp` command: records how the action started it
    fake.write_text(f'#!/bin/sh\necho "$@" > {record}\n')
    fake.chmod(0o755)
    # a simulator reads its environment when it starts: a second one on the same project sees READDSP_PANEL_CMD
    monkeypatch.setenv("READDSP_PANEL_CMD", str(fake))
    project = sim.project
    with ReaperSimulator(project) as second:
        urllib.request.urlopen(f"http://127.0.0.1:{second.web_port}/_/_{command_id(ACTION)}", timeout=10).read()
        deadline = time.monotonic() + 20
        while not record.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert record.read_text().split() == ["panel", "--reaper", "--engine-port", str(engine.port)]
