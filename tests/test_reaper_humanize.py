"""Humanize selected MIDI items in REAPER: a new MIDI take written through the item chunk (the REAPER simulator
and the real reapy client), the original kept and restored; the chunk edit itself."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest
import rpp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reaper_sim import ReaperSimulator  # noqa: E402
from reaper_sim.fixtures import audio_item, midi_events, midi_item, quartet_events, write_project  # noqa: E402

from readdsp.core.errors import ReaDDSPError  # noqa: E402
from readdsp.core.humanize import default_model  # noqa: E402
from readdsp.reaper_ext.actions import readdsp_action  # noqa: E402
from readdsp.reaper_ext.bridge import ReaperBridge  # noqa: E402
from readdsp.reaper_ext.engine import Engine  # noqa: E402
from readdsp.reaper_ext.humanize_take import humanized_item_text  # noqa: E402
from readdsp.reaper_ext.item_chunk import ItemChunk, parse_item_text  # noqa: E402

POOL = "{0F0F0F0F-0000-0000-0000-000000000001}"
SOURCE_GUID = "{0F0F0F0F-0000-0000-0000-000000000002}"
TAKE_GUID = "{0F0F0F0F-0000-0000-0000-000000000003}"


def quartet_item(selected: bool = True) -> str:
    events = [f"POOLEDEVTS {POOL}", *quartet_events(2), "CCINTERP 32", f"GUID {SOURCE_GUID}"]
    return midi_item("quartet", 1.0, 4.0, events, selected=selected, guid=TAKE_GUID)


@pytest.fixture
def setup(tmp_path: Path, monkeypatch):
    drums = midi_events([(0, 240, 9, 36, 100), (480, 720, 9, 38, 100)], end_tick=960)
    project = write_project(
        tmp_path / "song.RPP",
        {
            "Strings": [quartet_item()],
            "Drums": [midi_item("drums", 0.0, 1.0, drums)],
            "Audio": [audio_item("a clip", 0.0, 1.0, "clip.wav")],
        },
    )
    with ReaperSimulator(project) as sim:
        engine = Engine(None, ReaperBridge(web_port=sim.web_port), port=0, temp_dir=tmp_path / "tmp").start()
        monkeypatch.setattr(readdsp_action, "PORT", engine.port)
        engine.bridge.connect()  # the test reads the project through the same reapy link
        try:
            yield sim, engine
        finally:
            engine.shutdown()


def run_action(engine: Engine, address: str) -> None:
    before = engine.done
    assert readdsp_action.run_command(address) == 0  # what the REAPER action runs
    deadline = time.monotonic() + 60
    while engine.done <= before or engine.state != "idle":
        assert time.monotonic() < deadline, "the engine did not finish"
        time.sleep(0.05)


def saved_item(sim: ReaperSimulator) -> ItemChunk:
    from reapy import reascript_api as rpr

    rpr.Main_SaveProject(0, False)
    return ItemChunk.parse(rpp.loads(sim.project.read_text()).find(".//ITEM"))


def take_events(item_ptr: str, index: int) -> tuple[list[tuple], list[tuple]]:
    """(notes as (start, end, channel, pitch, velocity), CCs) of one take, read through reapy as the bridge does."""
    from reapy import reascript_api as rpr

    take = rpr.GetTake(item_ptr, index)
    _, _, n_notes, n_ccs, _ = rpr.MIDI_CountEvts(take, 0, 0, 0)
    notes = [tuple(rpr.MIDI_GetNote(take, i, 0, 0, 0, 0, 0, 0, 0)[5:10]) for i in range(n_notes)]
    ccs = [tuple(rpr.MIDI_GetCC(take, i, 0, 0, 0, 0, 0, 0, 0)[4:10]) for i in range(n_ccs)]
    return notes, ccs


def test_humanize_action_adds_a_new_midi_take_in_one_undo_point_and_restore_brings_the_original(setup) -> None:
    from reapy import reascript_api as rpr

    sim, engine = setup
    original = saved_item(sim)
    original_source = rpp.dumps(original.takes[0].source)
    run_action(engine, "/readdsp/humanize")
    item = saved_item(sim)
    assert len(item.takes) == 2 and item.active_index == 1
    old, new = item.takes
    assert rpp.dumps(old.source) == original_source  # the original MIDI take is untouched
    assert new.name == "quartet (humanized)" and new.guid not in (None, old.guid)
    assert new.ext()["readdsp_humanized_from"] == TAKE_GUID
    new_source = {line[0]: line[1] for line in new.source.children if isinstance(line, list) and len(line) > 1}
    assert new_source["POOLEDEVTS"] != POOL and new_source["GUID"] != SOURCE_GUID  # not pooled with the original
    assert rpr.Sim_UndoHistory() == ["ReaDDSP: humanize selected MIDI items"]
    assert "drums: skipped" in rpr.Sim_ConsoleText()
    item_ptr = rpr.GetMediaItem(0, 0)
    (old_notes, old_ccs), (new_notes, new_ccs) = take_events(item_ptr, 0), take_events(item_ptr, 1)
    assert new_ccs == old_ccs  # program changes kept
    assert [(n[0], n[2], n[3]) for n in new_notes] == [(n[0], n[2], n[3]) for n in old_notes]  # onsets, pitches
    assert len({n[4] for n in new_notes}) > 3 and all(1 <= n[4] <= 127 for n in new_notes)  # learned velocities
    assert any(n[1] != o[1] for n, o in zip(new_notes, old_notes, strict=True))  # learned durations
    for n in new_notes:  # a note ends before the next note of its key starts, and within the source
        later = [m[0] for m in new_notes if m[2:4] == n[2:4] and m[0] > n[0]]
        assert n[0] < n[1] <= min(later, default=8 * 960)
    run_action(engine, "/readdsp/humanize")  # humanizing the humanized take: a third take
    run_action(engine, "/readdsp/restore")
    item = saved_item(sim)
    assert len(item.takes) == 3 and item.active_index == 0  # the original, not the newest MIDI take


def test_humanize_rejects_bad_arguments(setup) -> None:
    sim, engine = setup
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    try:
        for request_id, args in (("a", (1.5,)), ("b", (0.5, -1)), ("c", ("loud",))):
            sock.sendto(readdsp_action.osc_message("/readdsp/humanize", request_id, *args), ("127.0.0.1", engine.port))
            address, reply = readdsp_action.osc_address_and_args(sock.recv(65536))
            assert address == "/readdsp/error" and reply[0] == request_id
    finally:
        sock.close()
    assert len(saved_item(sim).takes) == 1


def test_chunk_edit_keeps_every_original_line_and_is_deterministic() -> None:
    text = "\n".join(line[4:] for line in quartet_item().splitlines()) + "\n"
    model = default_model()
    first, guid, notes = humanized_item_text(text, TAKE_GUID, model, amount=1.0, seed=3)
    again, guid2, _ = humanized_item_text(text, TAKE_GUID, model, amount=1.0, seed=3)
    assert notes == 32 and first.startswith(text[: text.rindex(">")])  # the original lines come first, unchanged
    assert first.replace(guid, "").count("{") == again.replace(guid2, "").count("{")
    strip = [line for line in first.splitlines() if not line.strip().startswith(("GUID", "POOLEDEVTS"))]
    assert strip == [line for line in again.splitlines() if not line.strip().startswith(("GUID", "POOLEDEVTS"))]
    chunk = parse_item_text(first)
    assert [t.active for t in chunk.takes] == [False, True]
    flat, _, _ = humanized_item_text(text, TAKE_GUID, model, amount=0.0, seed=3)
    events = [line for line in flat.splitlines() if line.strip().startswith("E ")]
    assert (
        events[len(events) // 2 :]
        == events[: len(events) // 2]
        == [line for line in text.splitlines() if line.strip().startswith("E ")]
    )  # amount 0 changes nothing but the take's identity


def test_chunk_edit_errors_name_the_problem() -> None:
    text = "\n".join(line[4:] for line in quartet_item().splitlines()) + "\n"
    model = default_model()
    with pytest.raises(ReaDDSPError, match="no take"):
        humanized_item_text(text, "{MISSING}", model)
    with pytest.raises(ReaDDSPError, match="MIDI event line"):
        humanized_item_text(text.replace("E 0 90 4c 5a", "E x 90 4c 5a"), TAKE_GUID, model)
    drums = midi_item("drums", 0.0, 1.0, midi_events([(0, 240, 9, 36, 100)], end_tick=960), guid=TAKE_GUID)
    with pytest.raises(ReaDDSPError, match="no notes"):
        humanized_item_text(drums, TAKE_GUID, model)
