"""The engine over OSC, driven by the action scripts' own client code, against the REAPER simulator."""

from __future__ import annotations

import gc
import json
import resource
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import rpp
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reaper_sim import ReaperSimulator  # noqa: E402
from reaper_sim.fixtures import (  # noqa: E402
    audio_item,
    load_test_renderer,
    midi_events,
    midi_item,
    quartet_events,
    write_project,
)

from readdsp.reaper_ext.actions import readdsp_action  # noqa: E402
from readdsp.reaper_ext.bridge import ReaperBridge  # noqa: E402
from readdsp.reaper_ext.engine import Engine  # noqa: E402
from readdsp.reaper_ext.item_chunk import ItemChunk  # noqa: E402


@pytest.fixture(scope="module")
def renderer():
    return load_test_renderer()


def _project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "song.RPP",
        {
            "Strings": [midi_item("quartet", 1.0, 2.25, quartet_events(1))],
            "Audio": [audio_item("a clip", 0.0, 1.0, "clip.wav")],
        },
        rate=44100,
    )


@pytest.fixture
def setup(tmp_path: Path, renderer, monkeypatch):
    project = _project(tmp_path)
    with ReaperSimulator(project) as sim:
        engine = Engine(renderer, ReaperBridge(web_port=sim.web_port), port=0, temp_dir=tmp_path / "tmp").start()
        monkeypatch.setattr(readdsp_action, "PORT", engine.port)
        try:
            yield sim, engine
        finally:
            engine.shutdown()


def wait_done(request_id: str, sock: socket.socket, timeout: float = 120.0) -> tuple[str, list]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            address, args = readdsp_action.osc_address_and_args(sock.recv(65536))
        except TimeoutError:
            continue
        if address in ("/readdsp/done", "/readdsp/error") and args[0] == request_id:
            return address, args
    raise AssertionError("no reply")


def send(engine: Engine, *message, sock: socket.socket) -> None:
    sock.sendto(readdsp_action.osc_message(*message), ("127.0.0.1", engine.port))


@pytest.fixture
def sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.5)
    yield s
    s.close()


def saved_item(sim: ReaperSimulator) -> ItemChunk:
    from reapy import reascript_api as rpr

    rpr.Main_SaveProject(0, False)
    root = rpp.loads(sim.project.read_text())
    return ItemChunk.parse(root.find(".//ITEM"))


def test_render_action_adds_one_take_with_audio_of_the_item_length(setup, sock) -> None:
    sim, engine = setup
    original = sim.project.read_text()
    original_source = rpp.dumps(ItemChunk.parse(rpp.loads(original).find(".//ITEM")).takes[0].source)
    assert readdsp_action.run_command("/readdsp/render") == 0  # what the REAPER action runs
    while engine.state != "idle" or engine.jobs.qsize() or engine.done < 1:
        time.sleep(0.05)
    item = saved_item(sim)
    assert len(item.takes) == 2 and item.active_index == 1
    new = item.takes[1]
    assert new.name.startswith("ReaDDSP: ")
    wav = sim.project.parent / "media" / new.source.children[0][1]
    info = sf.info(str(wav))
    assert info.samplerate == 44100 and info.frames == round(2.25 * 44100)
    audio, _ = sf.read(str(wav))
    assert np.sqrt(np.mean(audio**2)) > 1e-3  # the quartet is audible
    ext = new.ext()
    assert ext["readdsp_seed"] == "0" and ext["readdsp_source_take"] == item.takes[0].guid
    assert rpp.dumps(item.takes[0].source) == original_source  # the MIDI take is untouched
    from reapy import reascript_api as rpr

    assert rpr.Sim_UndoHistory() == ["ReaDDSP: render selected MIDI items"]
    assert "a clip: skipped (not a MIDI take)" in rpr.Sim_ConsoleText()
    assert not list((engine.temp_dir).iterdir())


def test_instrument_and_seed_are_recorded_and_restore_brings_midi_back(setup, sock, renderer) -> None:
    sim, engine = setup
    instrument = renderer.instruments[0]
    send(engine, "/readdsp/render", "r1", instrument, 5, sock=sock)
    address, args = wait_done("r1", sock)
    assert address == "/readdsp/done", args
    summary = json.loads(args[1])
    assert summary["takes"][0]["item"] == f"ReaDDSP: {instrument}"
    send(engine, "/readdsp/restore", "r2", sock=sock)
    assert wait_done("r2", sock)[0] == "/readdsp/done"
    item = saved_item(sim)
    assert item.active_index == 0 and item.takes[1].ext()["readdsp_seed"] == "5"


def test_bad_messages_get_errors_and_the_engine_keeps_serving(setup, sock) -> None:
    _, engine = setup
    send(engine, "/readdsp/nope", "x1", sock=sock)
    assert wait_done("x1", sock) == ("/readdsp/error", ["x1", "unknown command /readdsp/nope"])
    send(engine, "/readdsp/render", "x2", 3.5, sock=sock)  # instrument must be a string
    assert wait_done("x2", sock)[0] == "/readdsp/error"
    send(engine, "/readdsp/render", sock=sock)  # no request id at all
    sock.sendto(b"not osc at all", ("127.0.0.1", engine.port))
    assert readdsp_action.request("/readdsp/ping")[0] == "/readdsp/pong"


def test_failed_render_leaves_no_take_and_no_file(setup, sock) -> None:
    sim, engine = setup
    media = sim.project.parent / "media"
    media.write_text("a file where the media folder should be")  # placing the WAV must fail
    send(engine, "/readdsp/render", "f1", sock=sock)
    assert wait_done("f1", sock)[0] == "/readdsp/error"
    assert len(saved_item(sim).takes) == 1
    assert not list(engine.temp_dir.iterdir())


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


@pytest.mark.slow
def test_200_queued_renders_no_leaks(tmp_path: Path, renderer, sock) -> None:
    project = write_project(
        tmp_path / "tiny.RPP", {"T": [midi_item("tiny", 0.0, 0.1, midi_events([(0, 96, 0, 69, 90)]))]}
    )
    with ReaperSimulator(project) as sim:
        engine = Engine(renderer, ReaperBridge(web_port=sim.web_port), port=0, temp_dir=tmp_path / "tmp").start()
        threads = threading.active_count()
        try:
            send(engine, "/readdsp/render", "warm", sock=sock)
            wait_done("warm", sock)
            gc.collect()
            rss_start = _rss_mb()
            for i in range(200):
                send(engine, "/readdsp/render", f"q{i}", sock=sock)
            replies = [wait_done(f"q{i}", sock) for i in range(200)]
            gc.collect()
            rss_end = _rss_mb()
        finally:
            engine.shutdown()
        assert all(address == "/readdsp/done" for address, _ in replies)
        assert threading.active_count() <= threads
        assert not list((tmp_path / "tmp").iterdir())
        assert len(list((tmp_path / "media").glob("*.wav"))) == 201
        assert rss_end - rss_start < 150, (rss_start, rss_end)
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
