"""Connect reapy's client to REAPER with timeouts, so a dead REAPER fails fast instead of hanging."""

from __future__ import annotations

import os
import threading
import time
import urllib.request
import warnings

from readdsp.core.errors import ReaDDSPError

TIMEOUT_S = 4.0  # every reply from REAPER must arrive within this; the caller's error comes within 5 s
SERVER_START_S = 3.0  # how long REAPER gets to start the reapy server action before we give up
WEB_PORT_ENV = "READDSP_REAPY_WEB_PORT"
SERVER_ACTION = "ReaDDSP_Start_reapy_server.py"

ENABLE_HINT = (
    "reapy is not enabled in REAPER (no reapy server runs, and REAPER did not start ReaDDSP's): close REAPER, "
    "run `readdsp reaper install`, start REAPER again (docs/reaper.md: if Python is not enabled in REAPER)"
)
START_HINT = "REAPER is not answering on its web interface port {port}: start REAPER (with reapy enabled)"

_lock = threading.Lock()


def web_port() -> int:
    """REAPER's web-interface port that reapy's lookup uses: $READDSP_REAPY_WEB_PORT, else reapy's default."""
    import reapy.config

    value = os.environ.get(WEB_PORT_ENV)
    return int(value) if value else int(reapy.config.WEB_INTERFACE_PORT)


def _import_reapy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reapy warns at import when REAPER is not running; we report it ourselves
        import reapy
        from reapy.tools.network import client, machines, web_interface
    if reapy.is_inside_reaper():
        raise ReaDDSPError("this process looks like REAPER to reapy (a global named `obj` in __main__); rename it")
    return reapy, client, machines, web_interface


def _timed_client_class(client_module):
    class TimedClient(client_module.Client):
        """reapy's client, with a timeout on connecting and on every reply."""

        def connect(self, address):
            self._socket.settimeout(TIMEOUT_S)
            return self._socket.connect(address)

        def recv(self, timeout=None):
            self._socket.settimeout(TIMEOUT_S)
            length = int.from_bytes(self._recv_exactly(8), "little")
            if length == 0:
                raise ConnectionAbortedError
            return self._recv_exactly(length)

        def _recv_exactly(self, n: int) -> bytes:
            # A socket with a timeout is non-blocking underneath, so MSG_WAITALL may return a partial message.
            chunks, remaining = [], n
            while remaining:
                chunk = self._socket.recv(remaining)
                if not chunk:
                    raise ConnectionAbortedError
                chunks.append(chunk)
                remaining -= len(chunk)
            return b"".join(chunks)

    return TimedClient


def _server_port(web_interface, host: str, port: int, undefined: type[Exception]) -> int:
    """The running reapy server's port; when none runs, have REAPER run ReaDDSP's server action and wait for it."""
    interface = web_interface.WebInterface(port, host)
    try:
        return int(interface.ext_state["server_port"])
    except undefined:
        pass
    from readdsp.reaper_ext.install import command_id

    # REAPER's web interface runs a command given its named id; REAPER runs it on its next main-loop tick
    urllib.request.urlopen(f"http://{host}:{port}/_/_{command_id(SERVER_ACTION)}", timeout=TIMEOUT_S).close()
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            return int(interface.ext_state["server_port"])
        except undefined:
            pass
    raise ReaDDSPError(ENABLE_HINT)


def connect(host: str = "localhost", port: int | None = None) -> None:
    """Point reapy at REAPER (re-connecting every time), or raise a ReaDDSPError that says what to do."""
    reapy, client_module, machines, web_interface = _import_reapy()
    port = web_port() if port is None else port
    with _lock:
        old = machines.CLIENTS.pop(host, None)
        if old is not None:
            try:
                old.close()
            except OSError:
                pass
        try:
            server_port = _server_port(web_interface, host, port, reapy.errors.UndefinedExtStateError)
            machines.CLIENTS[host] = _timed_client_class(client_module)(server_port, host)
        except ReaDDSPError:
            raise
        except (OSError, ValueError) as err:  # URLError and socket timeouts are OSErrors
            raise ReaDDSPError(START_HINT.format(port=port) + f" ({err})") from None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reapy.connect(host)
        if not reapy.dist_api_is_enabled():
            raise ReaDDSPError(START_HINT.format(port=port))


def lost_connection_error(err: BaseException) -> ReaDDSPError:
    """The error to raise when a call to REAPER times out or the link drops."""
    return ReaDDSPError(f"REAPER stopped answering ({type(err).__name__}); is it frozen or closed?")
