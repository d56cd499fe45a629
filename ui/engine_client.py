"""The connected panel's OSC client for the ReaDDSP engine on 127.0.0.1: blocking calls and pumped callbacks."""

from __future__ import annotations

import json
import select
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from readdsp.core.errors import ReaDDSPError

HOST = "127.0.0.1"
ACCEPT_TIMEOUT_S = 3.0
NOT_RUNNING = "the ReaDDSP engine does not answer on 127.0.0.1:{port} (start it with: readdsp engine)"


@dataclass
class Reply:
    """A finished request: `summary` (the done JSON) or `error` (the engine's one-line message)."""

    request_id: str
    summary: dict | None = None
    error: str | None = None


Callback = Callable[[Reply], None]
ProgressCallback = Callable[[float, float], None]


class EngineClient:
    """Sends `/readdsp/<command> id ...` and matches `/readdsp/done|error id` replies to their requests."""

    def __init__(self, port: int):
        self.port = port
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((HOST, 0))
        self.socket.setblocking(False)
        self._pending: dict[str, tuple[Callback | None, ProgressCallback | None]] = {}
        self._accepted: set[str] = set()
        self._finished: dict[str, Reply] = {}
        self._sent_at: dict[str, float] = {}

    @property
    def pending(self) -> int:
        return len(self._pending)

    def close(self) -> None:
        self.socket.close()

    def send(
        self, command: str, *args: str | int, on_reply: Callback | None = None, progress: ProgressCallback | None = None
    ) -> str:
        """Send one command; `on_reply(Reply)` runs from `pump()` when it finishes. Returns the request id."""
        request_id = uuid.uuid4().hex[:12]
        builder = OscMessageBuilder(address=f"/readdsp/{command}")
        for arg in (request_id, *args):
            builder.add_arg(arg)
        self._pending[request_id] = (on_reply, progress)
        self._sent_at[request_id] = time.monotonic()
        try:
            self.socket.sendto(builder.build().dgram, (HOST, self.port))
        except OSError as err:
            self._finish(Reply(request_id, error=f"cannot reach the engine ({err})"))
        return request_id

    def call(self, command: str, *args: str | int, timeout: float = 60.0) -> dict:
        """Send and wait for the result; a ReaDDSPError for an error reply, no engine, or a timeout."""
        request_id = self.send(command, *args)
        deadline = time.monotonic() + timeout
        while request_id not in self._finished:
            if time.monotonic() > deadline:
                self._pending.pop(request_id, None)
                raise ReaDDSPError(f"the engine did not finish /readdsp/{command} within {timeout:.0f} s")
            select.select([self.socket], [], [], 0.05)
            self.pump()
        reply = self._finished.pop(request_id)
        if reply.error is not None:
            raise ReaDDSPError(reply.error)
        return reply.summary or {}

    def pump(self) -> None:
        """Read every waiting reply and run the callbacks; requests never accepted time out with an error."""
        while True:
            try:
                data = self.socket.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            try:
                message = OscMessage(data)
            except Exception:  # noqa: BLE001 - anything unreadable is not for us
                continue
            self._handle(message.address, list(message.params))
        now = time.monotonic()
        for request_id in [r for r in self._pending if r not in self._accepted]:
            if now - self._sent_at[request_id] > ACCEPT_TIMEOUT_S:
                self._finish(Reply(request_id, error=NOT_RUNNING.format(port=self.port)))

    def _handle(self, address: str, args: list) -> None:
        if not args or not isinstance(args[0], str) or args[0] not in self._pending:
            return
        request_id = args[0]
        if address == "/readdsp/accepted":
            self._accepted.add(request_id)
        elif address == "/readdsp/progress" and len(args) == 3:
            progress = self._pending[request_id][1]
            if progress is not None:
                progress(float(args[1]), float(args[2]))
        elif address == "/readdsp/done":
            try:
                summary = json.loads(args[1]) if len(args) > 1 else {}
            except ValueError:
                summary = {}
            self._finish(Reply(request_id, summary=summary if isinstance(summary, dict) else {}))
        elif address == "/readdsp/error":
            self._finish(Reply(request_id, error=str(args[-1]) if len(args) > 1 else "engine error"))

    def _finish(self, reply: Reply) -> None:
        callback, _ = self._pending.pop(reply.request_id, (None, None))
        self._accepted.discard(reply.request_id)
        self._sent_at.pop(reply.request_id, None)
        if callback is None:
            self._finished[reply.request_id] = reply
        else:
            callback(reply)
