"""The reapy bridge against the REAPER simulator, through the real reapy client."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import rpp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reaper_sim import ReaperSimulator  # noqa: E402
from reaper_sim.fixtures import audio_item, midi_events, midi_item, quartet_events, write_project  # noqa: E402

from readdsp.core.errors import ReaDDSPError  # noqa: E402
from readdsp.reaper_ext.bridge import ReaperBridge  # noqa: E402

SHARED_RPP = Path(__file__).resolve().parents[1] / "../shared/data/rpp/vst.RPP"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    looped = midi_events(
        [(0, 480, 0, 60, 100), (960, 1440, 0, 62, 80)],
        ccs=[(480, 0xB0, 11, 64), (0, 0xE0, 0, 0x60)],
        end_tick=1920,
    )
    return write_project(
        tmp_path / "song.RPP",
        {
            "Strings": [midi_item("quartet", 1.0, 4.0, quartet_events(2))],
            "Loop": [midi_item("looped", 10.0, 2.7, looped, loop=True, soffs=0.3)],
            "Audio": [audio_item("a clip", 0.0, 1.0, "clip.wav")],
            "Empty": [midi_item("silent", 20.0, 1.0, midi_events([], end_tick=960))],
        },
        bpm=120.0,
    )


@pytest.fixture
def sim(project: Path):
    with ReaperSimulator(project) as running:
        yield running


def test_reads_parts_in_item_seconds_and_reports_skipped_items(sim: ReaperSimulator) -> None:
    selection = ReaperBridge(web_port=sim.web_port).read_selected()
    assert selection.sample_rate == 48000
    assert selection.media_folder == sim.project.parent.resolve() / "media"
    by_name = {item.name: item for item in selection.midi_items}
    assert set(by_name) == {"quartet", "looped"}
    quartet = by_name["quartet"].performance
    assert [p.program for p in quartet.parts] == [40, 41, 42, 73]
    violin = quartet.parts[0]
    assert [n.pitch for n in violin.notes[:4]] == [76, 77, 78, 76]
    # 120 bpm: one beat = 0.5 s from the item start; 900 ticks = 0.46875 s
    assert violin.notes[3].onset == pytest.approx(1.5)
    assert violin.notes[3].offset == pytest.approx(1.5 + 0.46875)
    assert any("a clip" in m and "not a MIDI take" in m for m in selection.messages)
    assert any("silent" in m and "no notes" in m for m in selection.messages)


def test_loop_and_source_offset_follow_reaper_timing(sim: ReaperSimulator) -> None:
    item = next(i for i in ReaperBridge(web_port=sim.web_port).read_selected().midi_items if i.name == "looped")
    notes = item.performance.parts[0].notes
    # 120 bpm, source = 1920 ticks = 1 s, notes at 0 s (60) and 0.5 s (62) of each pass; the take starts 0.3 s
    # into the source, so pass k plays them at k - 0.3 (the first one is before the item: dropped) and k + 0.2
    assert [round(n.onset, 6) for n in notes] == [0.2, 0.7, 1.2, 1.7, 2.2]
    assert [n.pitch for n in notes] == [62, 60, 62, 60, 62]
    assert notes[0].offset == pytest.approx(0.45)
    assert notes[-1].offset == pytest.approx(2.45)
    part = item.performance.parts[0]
    # tick 480 = 0.25 s - 0.3 s, before the item start: the value in force there is kept at 0 s (midi_rules)
    assert [t for t, _ in part.cc[11]] == pytest.approx([0.0, 0.95, 1.95])
    assert [t for t, _ in part.pitch_bend[:3]] == pytest.approx([0.0, 0.7, 1.7])
    assert part.pitch_bend[1][1] == pytest.approx(((0x60 << 7) - 8192) / 8192 * 2)


def test_take_data_is_saved_in_the_project_file(sim: ReaperSimulator) -> None:
    bridge = ReaperBridge(web_port=sim.web_port)
    item = bridge.read_selected().midi_items[0]
    bridge.set_take_data(item.take, {"instrument": "cello", "seed": "7"})
    assert bridge.take_data(item.take) == {"instrument": "cello", "seed": "7"}
    bridge.save_project()
    saved = rpp.loads(sim.project.read_text())
    ext = saved.find(".//EXT")
    assert ext is not None and ["readdsp_instrument", "cello"] in ext.children


def test_audio_take_added_active_in_one_undo_point_and_restored(sim: ReaperSimulator, tmp_path: Path) -> None:
    import reapy

    bridge = ReaperBridge(web_port=sim.web_port)
    item = bridge.read_selected().midi_items[0]
    wav = tmp_path / "x.wav"
    guids = bridge.add_audio_takes([(item.item, wav, "ReaDDSP: violin", {"source_take": item.take_guid})], "ReaDDSP: t")
    from reapy import reascript_api as rpr

    assert rpr.Sim_UndoHistory() == ["ReaDDSP: t"]
    take = reapy.Item(item.item).active_take
    assert not take.is_midi and take.name == "ReaDDSP: violin" and guids[0]
    assert len(bridge.restore_midi_takes()) >= 1
    assert reapy.Item(item.item).active_take.is_midi


def test_dead_reaper_fails_within_five_seconds(sim: ReaperSimulator) -> None:
    bridge = ReaperBridge(web_port=sim.web_port)
    bridge.read_selected()
    sim.pause()
    started = time.monotonic()
    with pytest.raises(ReaDDSPError, match="REAPER"):
        bridge.read_selected()
    assert time.monotonic() - started < 5.0


def test_reaper_without_reapy_says_what_to_do(project: Path) -> None:
    with ReaperSimulator(project, reapy_enabled=False) as sim:
        with pytest.raises(ReaDDSPError, match="reapy is not enabled.*readdsp reaper install"):
            ReaperBridge(web_port=sim.web_port).read_selected()


def test_no_reaper_at_all_is_a_clear_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ReaDDSPError, match="start REAPER"):
        ReaperBridge(web_port=port).read_selected()


@pytest.mark.skipif(not SHARED_RPP.exists(), reason="shared data (../shared/data/rpp) not available")
def test_real_reaper_saved_project(tmp_path: Path) -> None:
    copy = tmp_path / "vst.RPP"
    copy.write_bytes(SHARED_RPP.read_bytes())
    with ReaperSimulator(copy) as sim:
        selection = ReaperBridge(web_port=sim.web_port).read_selected()
    # the selected item on track "Synth" has no takes; the MIDI item on track 5.50 is not selected
    assert selection.midi_items == [] and any("empty item" in m for m in selection.messages)
