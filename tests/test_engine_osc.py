"""The engine's OSC front door on 127.0.0.1: literal addresses, bursts, oversized datagrams, jobs checked first."""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reaper_sim.fixtures import load_test_renderer  # noqa: E402

from readdsp.reaper_ext.actions import readdsp_action  # noqa: E402
from readdsp.reaper_ext.bridge import ReaperBridge  # noqa: E402
from readdsp.reaper_ext.engine import Engine  # noqa: E402


@pytest.fixture(scope="module")
def renderer():
    return load_test_renderer()


@pytest.fixture
def engine(tmp_path: Path, renderer):
    # no REAPER: a job that gets to run fails with an error reply, which is all these tests need
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    running = Engine(renderer, ReaperBridge(web_port=dead_port), port=0, temp_dir=tmp_path / "tmp").start()
    try:
        yield running
    finally:
        running.shutdown()


@pytest.fixture
def client():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5)
    yield s
    s.close()


def replies(sock: socket.socket, count: int, timeout: float = 20.0) -> list[tuple[str, list]]:
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        try:
            out.append(readdsp_action.osc_address_and_args(sock.recv(65536)))
        except TimeoutError:
            break
    return out


def test_patterns_never_fan_out(engine: Engine, client: socket.socket) -> None:
    for address in ("/readdsp/*", "/readdsp/{ping,status}", "/readdsp/[pq]*", "/readdsp/qui?"):
        client.sendto(readdsp_action.osc_message(address, "p1"), ("127.0.0.1", engine.port))
        assert replies(client, 1) == [("/readdsp/error", ["p1", f"unknown command {address}"])]
    assert not engine.stopped.is_set() and engine.done == 0 and engine.jobs.qsize() == 0


def test_a_burst_of_500_pings_gets_500_answers(engine: Engine, client: socket.socket) -> None:
    answers: list = []
    reader = threading.Thread(target=lambda: answers.extend(replies(client, 500)))
    reader.start()
    for i in range(500):
        client.sendto(readdsp_action.osc_message("/readdsp/ping", f"b{i}"), ("127.0.0.1", engine.port))
    reader.join()
    assert sorted(args[0] for _, args in answers) == sorted(f"b{i}" for i in range(500))
    assert engine.endpoint.dropped_by_os == 0


def test_oversized_and_non_osc_datagrams_get_an_error(engine: Engine, client: socket.socket, caplog) -> None:
    big = readdsp_action.osc_message("/readdsp/ping", "x" * 9000)
    client.sendto(big, ("127.0.0.1", engine.port))
    ((address, args),) = replies(client, 1)
    assert address == "/readdsp/error" and "over 8192 bytes" in args[1]
    client.sendto(b"\x00\x01garbage", ("127.0.0.1", engine.port))
    ((address, args),) = replies(client, 1)
    assert address == "/readdsp/error" and "not an OSC message" in args[1]
    assert any("over the 8192-byte limit" in r.message for r in caplog.records)


def test_bundles_are_answered_message_by_message_and_deep_nesting_is_refused(
    engine: Engine, client: socket.socket
) -> None:
    def bundle(*contents: bytes) -> bytes:
        return b"#bundle\x00" + b"\x00" * 7 + b"\x01" + b"".join(len(c).to_bytes(4, "big") + c for c in contents)

    pings = [readdsp_action.osc_message("/readdsp/ping", f"n{i}") for i in range(3)]
    client.sendto(bundle(*pings), ("127.0.0.1", engine.port))
    assert sorted(args[0] for _, args in replies(client, 3)) == ["n0", "n1", "n2"]
    nested = pings[0]
    for _ in range(390):  # within 8 KB, deep enough to exhaust python-osc's recursive parser
        nested = bundle(nested)
    client.sendto(nested, ("127.0.0.1", engine.port))
    ((address, args),) = replies(client, 1)
    assert address == "/readdsp/error" and "not an OSC message" in args[1]
    assert not engine.stopped.is_set()


def test_jobs_are_checked_before_accepted(engine: Engine, client: socket.socket) -> None:
    for args in (("r1", "kazoo", 0), ("r1", "", 1.5), ("r1", "", 0, "extra"), ("x" * 300,)):
        client.sendto(readdsp_action.osc_message("/readdsp/render", *args), ("127.0.0.1", engine.port))
        ((address, reply),) = replies(client, 1)
        assert address == "/readdsp/error", (args, reply)
    (Path(engine.temp_dir) / "a-file").write_text("x")
    client.sendto(
        readdsp_action.osc_message("/readdsp/effect_dataset", "e1", str(Path(engine.temp_dir) / "a-file")),
        ("127.0.0.1", engine.port),
    )
    assert replies(client, 1)[0][0] == "/readdsp/error"
    assert engine.jobs.qsize() == 0 and engine.done == 0


def test_a_burst_over_the_queue_limit_is_refused_with_errors_never_dropped(
    tmp_path: Path, renderer, client: socket.socket, monkeypatch
) -> None:
    from readdsp.reaper_ext import engine as engine_module

    monkeypatch.setattr(engine_module, "MAX_QUEUED_JOBS", 3)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    running = Engine(renderer, ReaperBridge(web_port=dead_port), port=0, temp_dir=tmp_path / "tmp").start()
    try:
        for i in range(40):
            client.sendto(readdsp_action.osc_message("/readdsp/restore", f"j{i}"), ("127.0.0.1", running.port))
        answers = replies(client, 80, timeout=60)
    finally:
        running.shutdown()
    final = {args[0] for address, args in answers if address in ("/readdsp/done", "/readdsp/error")}
    assert final == {f"j{i}" for i in range(40)}  # every job is answered: run, failed or refused
    assert any("busy" in args[1] for address, args in answers if address == "/readdsp/error")
