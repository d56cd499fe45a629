"""The engine's OSC endpoint on 127.0.0.1: one reader thread, literal address matching, answers for every datagram.

python-osc's dispatcher treats an address as a pattern (`/readdsp/*` ran every command, `quit` included) and
its UDP server drops datagrams over 8 KB without a word. Here an address is looked up as it is: a pattern
matches nothing and gets an "unknown command" error. A datagram over `MAX_DATAGRAM` bytes, or one that is not
OSC, gets an error reply and a log line. One thread reads and answers (commands only queue work), with a large
receive buffer, so bursts are read as they come; on Linux, datagrams the OS dropped anyway (buffer full) are
counted and logged.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket, ParseError

HOST = "127.0.0.1"
MAX_DATAGRAM = 8192
RECEIVE_BUFFER = 4 << 20
SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40 if hasattr(socket, "CMSG_SPACE") else None)
log = logging.getLogger("readdsp.engine")

Handler = Callable[[tuple[str, int], str, tuple], None]


class OscEndpoint:
    """Reads datagrams on 127.0.0.1:`port` and calls `handler(client, address, args)` for each message."""

    def __init__(self, port: int, handler: Handler, error_address: str):
        self.handler = handler
        self.error_address = error_address
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        self._track_drops = False
        if SO_RXQ_OVFL is not None:
            try:
                self.socket.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
                self._track_drops = True
            except OSError:
                pass
        self.socket.bind((HOST, port))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.dropped_by_os = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="readdsp-osc", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
        self.socket.close()

    def send(self, client: tuple[str, int], address: str, *args: Any) -> None:
        builder = OscMessageBuilder(address=address)
        for arg in args:
            builder.add_arg(arg)
        try:
            self.socket.sendto(builder.build().dgram, client)
        except OSError as err:
            log.warning("cannot reply to %s: %s", client, err)

    def _receive(self) -> tuple[bytes, tuple[str, int]]:
        if not self._track_drops:
            data, client = self.socket.recvfrom(1 << 16)
            return data, client
        data, ancillary, _, client = self.socket.recvmsg(1 << 16, socket.CMSG_SPACE(4))
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL and len(payload) >= 4:
                total = struct.unpack("=I", payload[:4])[0]
                if total > self.dropped_by_os:
                    log.warning("%d datagram(s) dropped by the OS (receive buffer full)", total - self.dropped_by_os)
                    self.dropped_by_os = total
        return data, client

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, client = self._receive()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            try:
                self._datagram(data, client)
            except Exception:  # a bug must not stop the reader; it is logged with its traceback
                log.exception("error handling a datagram from %s", client)

    def _datagram(self, data: bytes, client: tuple[str, int]) -> None:
        if len(data) > MAX_DATAGRAM:
            log.warning("datagram of %d bytes from %s is over the %d-byte limit", len(data), client, MAX_DATAGRAM)
            self.send(client, self.error_address, "", f"datagram of {len(data)} bytes is over {MAX_DATAGRAM} bytes")
            return
        try:
            messages = [timed.message for timed in OscPacket(data).messages]
        except (ParseError, ValueError, IndexError, struct.error, RecursionError) as err:  # bundles nest within 8 KB
            log.warning("not an OSC message from %s: %s", client, err)
            self.send(client, self.error_address, "", f"not an OSC message ({err})")
            return
        for message in messages:
            self.handler(client, message.address, tuple(message.params))
