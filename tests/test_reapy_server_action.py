"""ReaDDSP's reapy server action: loopback only, started on demand, and alive after a client dies mid-call."""

from __future__ import annotations

import importlib.util
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reaper_sim import ReaperSimulator  # noqa: E402
from reaper_sim.fixtures import midi_item, quartet_events, reap, write_project  # noqa: E402

from readdsp.reaper_ext.bridge import ReaperBridge  # noqa: E402
from readdsp.reaper_ext.install import action_scripts  # noqa: E402

SCRIPT = next(s for s in action_scripts() if s.name == "ReaDDSP_Start_reapy_server.py")

HOLDING_CLIENT = """
import sys, time
from readdsp.reaper_ext import reapy_link
reapy_link.connect("localhost", int(sys.argv[1]))
import reapy
from reapy import reascript_api as rpr
with reapy.inside_reaper():
    rpr.CountMediaItems(0)
    print("holding", flush=True)
    time.sleep(60)
"""


def load_script():
    spec = importlib.util.spec_from_file_location("readdsp_reapy_server", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # outside REAPER: defines the server, starts nothing
    return module


def frame(payload: dict) -> bytes:
    data = json.dumps(payload).encode()
    return len(data).to_bytes(8, "little") + data


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "song.RPP", {"S": [midi_item("q", 0.0, 4.0, quartet_events(2))]})


def test_server_binds_loopback_only() -> None:
    server = load_script().LoopbackServer(0)
    try:
        assert server._socket.getsockname()[0] == "127.0.0.1"
    finally:
        server.close()


def test_a_client_dying_while_holding_the_server_is_dropped_and_serving_goes_on() -> None:
    module = load_script()
    server = module.LoopbackServer(0)
    try:
        client = socket.create_connection(server._socket.getsockname(), timeout=2)
        module.serve_round(server)  # accepts, sends the greeting
        assert len(server.connections) == 1
        client.sendall(frame({"function": "HOLD", "input": {"args": [], "kwargs": {}}}))
        client.close()  # gone before the server answers the hold
        time.sleep(0.05)
        module.serve_round(server)
        module.serve_round(server)
        assert server.connections == {}
        second = socket.create_connection(server._socket.getsockname(), timeout=2)
        module.serve_round(server)
        assert second.recv(8) and len(server.connections) == 1
        second.close()
    finally:
        server.close()


def test_reaper_starts_the_server_on_the_first_connect_and_keeps_it_after_a_holder_is_killed(project: Path) -> None:
    with ReaperSimulator(project) as sim:
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDING_CLIENT, str(sim.web_port)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert holder.stdout.readline().strip() == "holding"  # it asked REAPER to start the server, and holds it
            holder.send_signal(signal.SIGKILL)
            holder.wait(10)
        finally:
            reap(holder)
        selection = ReaperBridge(web_port=sim.web_port).read_selected()
        assert sim.process.poll() is None
        assert [item.name for item in selection.midi_items] == ["q"]
        with socket.create_connection(("127.0.0.1", sim.server_port), timeout=2):
            pass  # still listening where the action put it
