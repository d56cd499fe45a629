"""Run the REAPER simulator: `python -m reaper_sim.server PROJECT.RPP --ready FILE [--resource-path DIR]`.

It plays REAPER's part of reapy's dist API:
* a web interface that answers ExtState lookups and runs actions (`GET /_/<command>`), as REAPER's does;
* the actions registered in `<resource>/reaper-kb.ini` (`SCR` lines: ReaScripts under `<resource>/Scripts`),
  run in this process's Python as REAPER runs them in its embedded one, on the main thread;
* REAPER's defer loop: `RPR_defer` code runs on the next tick, about 30 times a second; code that raises is
  reported on the console and, since it did not re-defer itself, stops, as a deferred script does in REAPER;
  `RPR_atexit` code runs when the simulator stops.
So the reapy server is whatever action the client asks the web interface to run (ReaDDSP's installed
`ReaDDSP_Start_reapy_server.py`), over the simulated `reaper_python` API. Every port binds 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.server
import json
import queue
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from urllib.parse import unquote

DEFER_INTERVAL_S = 1 / 30  # REAPER runs deferred scripts about 30 times a second


def registered_scripts(resource: Path) -> dict[str, Path]:
    """Named command (`_RS...`) -> script path, from reaper-kb.ini's `SCR 4 0 ID "desc" "path"` lines."""
    kb = resource / "reaper-kb.ini"
    actions = {}
    for line in kb.read_text(encoding="utf-8").splitlines() if kb.exists() else []:
        if line.startswith("SCR "):
            fields = line.split(" ", 4)
            path = fields[4].rsplit('"', 2)[-2]
            actions["_" + fields[3]] = Path(path) if Path(path).is_absolute() else resource / "Scripts" / path
    return actions


def _web_handler(ext_state: dict, lock: threading.RLock, run_action):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            parts = unquote(self.path).strip("/").split("/")
            body = ""
            if len(parts) >= 4 and parts[:2] == ["_", "GET"] and parts[2] == "EXTSTATE":
                section, key = parts[3], parts[4] if len(parts) > 4 else ""
                with lock:
                    body = f"EXTSTATE\t{section}\t{key}\t{ext_state.get((section, key), '')}\n"
            elif len(parts) == 2 and parts[0] == "_":
                run_action(parts[1])
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


class MainThread:
    """REAPER's main thread: actions asked for by the web interface, then deferred code, once a tick."""

    def __init__(self, actions: dict[str, Path], console: list[str]):
        self.actions, self.console = actions, console
        self.requested: queue.Queue[Path] = queue.Queue()
        self.deferred: list[str] = []
        self.at_exit: list[str] = []

    def request(self, command: str) -> None:
        if command in self.actions:  # REAPER ignores commands it does not know
            self.requested.put(self.actions[command])

    def _run(self, what: str, code) -> None:
        try:
            exec(code, {"__name__": "__main__", "__file__": what})
        except Exception:
            self.console.append(f"{what}:\n{traceback.format_exc()}")
            print(self.console[-1], flush=True)

    def tick(self) -> None:
        while not self.requested.empty():
            path = self.requested.get()
            self._run(str(path), compile(path.read_text(encoding="utf-8"), str(path), "exec"))
        pending = self.deferred[:]
        del self.deferred[:]  # RPR_defer appends to this very list
        for code in pending:
            self._run("deferred code", code)

    def stop(self) -> None:
        for code in self.at_exit:
            self._run("atexit code", code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("project")
    parser.add_argument("--ready", required=True, help="file to write the web port into once serving")
    parser.add_argument("--web-port", type=int, default=0)
    parser.add_argument("--resource-path", type=Path, help="REAPER's resource folder (its reaper-kb.ini actions)")
    parser.add_argument("--device-rate", type=int, default=44100)
    args = parser.parse_args(argv)

    from .api import SimReaper, build_module
    from .project import SimProject

    sim = SimReaper(SimProject(args.project), device_rate=args.device_rate, resource_path=args.resource_path)
    loop = MainThread(registered_scripts(args.resource_path) if args.resource_path else {}, sim.console)
    main_module = sys.modules["__main__"]
    main_module.obj = None  # what REAPER's embedded Python defines; reapy tests for it
    main_module.RPR_defer = loop.deferred.append
    main_module.RPR_atexit = loop.at_exit.append
    sys.modules["reaper_python"] = build_module(sim)
    import reapy  # noqa: F401  (now in "inside REAPER" mode, over the simulated API)

    web = http.server.ThreadingHTTPServer(
        ("127.0.0.1", args.web_port), _web_handler(sim.ext_state, sim.lock, loop.request)
    )
    threading.Thread(target=web.serve_forever, daemon=True).start()

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    ready = Path(args.ready)
    ready.with_suffix(".tmp").write_text(json.dumps({"web_port": web.server_address[1]}))
    ready.with_suffix(".tmp").replace(ready)
    while not stopping.is_set():
        loop.tick()
        time.sleep(DEFER_INTERVAL_S)
    loop.stop()
    web.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
