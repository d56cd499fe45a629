"""Killing the engine mid-render leaves the project as it was; the next start removes partial files."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reaper_sim import ReaperSimulator  # noqa: E402
from reaper_sim.fixtures import engine_model_args, midi_item, quartet_events, reap, write_project  # noqa: E402

from readdsp.reaper_ext.actions import readdsp_action  # noqa: E402
from readdsp.reaper_ext.bridge import ReaperBridge  # noqa: E402


def start_engine(sim: ReaperSimulator, tmp_path: Path, model_args: list[str]) -> tuple[subprocess.Popen, int]:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_STATE_HOME=str(tmp_path / "state"))
    cmd = [
        sys.executable,
        "-m",
        "readdsp.scripts.cli",
        "engine",
        "--port",
        "0",
        "--reapy-port",
        str(sim.web_port),
    ]
    proc = subprocess.Popen(cmd + model_args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line, match = "", None
    for _ in range(20):  # log lines may come first
        line = proc.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if match or not line:
            break
    if not match:
        proc.kill()
        raise AssertionError(f"engine did not start: {line}{proc.stdout.read()}")
    return proc, int(match.group(1))


@pytest.mark.slow
def test_kill_mid_render_then_restart_cleans_up(tmp_path: Path, monkeypatch) -> None:
    # Over three minutes of quartet: seconds of rendering even on a fast machine, so the kill lands mid-render.
    project = write_project(tmp_path / "song.RPP", {"S": [midi_item("long", 0.0, 192.0, quartet_events(96))]})
    temp_dir = tmp_path / "cache" / "readdsp" / "engine-tmp"
    model_args = engine_model_args(tmp_path)
    with ReaperSimulator(project) as sim:
        engine, port = start_engine(sim, tmp_path, model_args)
        monkeypatch.setattr(readdsp_action, "PORT", port)
        try:
            assert readdsp_action.request("/readdsp/render", timeout=5.0)[0] == "/readdsp/accepted"
            time.sleep(1.0)  # reading the item takes well under a second; the render is under way
            engine.send_signal(signal.SIGKILL)
            engine.wait(10)
        finally:
            reap(engine)
        from reapy import reascript_api as rpr

        ReaperBridge(web_port=sim.web_port).connect()
        item = rpr.GetMediaItem(0, 0)
        assert rpr.CountTakes(item) == 1 and rpr.TakeIsMIDI(rpr.GetActiveTake(item))
        assert rpr.Sim_UndoHistory() == []
        assert not list((tmp_path / "media").glob("*.wav")) if (tmp_path / "media").exists() else True

        temp_dir.mkdir(parents=True, exist_ok=True)
        (temp_dir / "readdsp-partial-left-over.wav").write_bytes(b"RIFF")  # as if killed while writing
        engine, port = start_engine(sim, tmp_path, model_args)
        try:
            assert not list(temp_dir.iterdir())
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(readdsp_action.osc_message("/readdsp/quit", "q"), ("127.0.0.1", port))
            assert engine.wait(30) == 0
        finally:
            reap(engine)
