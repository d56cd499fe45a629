"""Run the REAPER simulator: `python -m reaper_sim.server PROJECT.RPP --ready FILE [--web-port N]`.

It plays REAPER's part of reapy's dist API: a web interface answering the ExtState port lookup, and
reapy's own `Server` class (as `activate_reapy_server.py` runs it inside REAPER) serving requests from a
main loop that runs at REAPER's defer rate. Every port binds 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.server
import json
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote

DEFER_INTERVAL_S = 1 / 30  # REAPER runs deferred scripts about 30 times a second


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _web_handler(ext_state: dict, reapy_enabled: bool):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            parts = unquote(self.path).strip("/").split("/")
            body = ""
            if len(parts) >= 4 and parts[:2] == ["_", "GET"] and parts[2] == "EXTSTATE":
                section, key = parts[3], parts[4] if len(parts) > 4 else ""
                value = ext_state.get((section, key), "") if reapy_enabled else ""
                body = f"EXTSTATE\t{section}\t{key}\t{value}\n"
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("project")
    parser.add_argument("--ready", required=True, help="file to write the ports into once serving")
    parser.add_argument("--web-port", type=int, default=0)
    parser.add_argument("--device-rate", type=int, default=44100)
    parser.add_argument("--no-reapy", action="store_true", help="web interface up, reapy server not enabled")
    args = parser.parse_args(argv)

    sys.modules["__main__"].obj = None  # what REAPER's embedded Python defines; reapy tests for it
    from .api import SimReaper, build_module
    from .project import SimProject

    sim = SimReaper(SimProject(args.project), device_rate=args.device_rate)
    sys.modules["reaper_python"] = build_module(sim)
    import reapy  # noqa: F401  (now in "inside REAPER" mode, over the simulated API)
    from reapy.tools.network.server import Server

    class LoopbackServer(Server):
        def __init__(self, port: int):  # reapy's Server binds 0.0.0.0; the simulator never leaves loopback
            from reapy.tools.network.socket import Socket

            Socket.__init__(self)
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.bind(("127.0.0.1", port))
            self.listen()
            self.connections = {}
            self.settimeout(0.0001)

    server_port = _free_port()
    server = LoopbackServer(server_port)
    sim.ext_state[("reapy", "server_port")] = json.dumps(server_port)
    web = http.server.ThreadingHTTPServer(("127.0.0.1", args.web_port), _web_handler(sim.ext_state, not args.no_reapy))
    threading.Thread(target=web.serve_forever, daemon=True).start()

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    ready = Path(args.ready)
    ready.with_suffix(".tmp").write_text(json.dumps({"web_port": web.server_address[1], "server_port": server_port}))
    ready.with_suffix(".tmp").replace(ready)
    while not stopping.is_set():
        server.accept()
        requests = server.get_requests()
        results = server.process_requests(requests)
        server.send_results(results)
        time.sleep(DEFER_INTERVAL_S)
    web.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
