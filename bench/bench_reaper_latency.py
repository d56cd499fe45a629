"""Latency of "Render selected MIDI items": OSC message -> take inserted (8-bar 4-part item, simulator).

Run: .venv/bin/python bench/bench_reaper_latency.py [--runs 3]
Prints the wall time per stage and the ratio to the 2 s target, plus the ratio to an anchor measured in the
same run: the bare render of the same performance (so the REAPER round trip overhead shows on its own).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from reaper_sim import ReaperSimulator  # noqa: E402
from reaper_sim.fixtures import load_test_renderer, midi_item, quartet_events, write_project  # noqa: E402

from readdsp.reaper_ext.actions.readdsp_action import osc_address_and_args, osc_message  # noqa: E402
from readdsp.reaper_ext.bridge import ReaperBridge  # noqa: E402
from readdsp.reaper_ext.engine import Engine  # noqa: E402

TARGET_S = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    renderer = load_test_renderer()
    with tempfile.TemporaryDirectory() as tmp:
        # 8 bars of 4/4 at 120 bpm = 16 s
        project = write_project(Path(tmp) / "bench.RPP", {"S": [midi_item("quartet", 0.0, 16.0, quartet_events(8))]})
        with ReaperSimulator(project) as sim:
            bridge = ReaperBridge(web_port=sim.web_port)
            performance = bridge.read_selected().midi_items[0].performance
            renderer.render(performance.copy(), sample_rate=48000, seed=0)  # warm-up
            anchors = []
            engine = Engine(renderer, bridge, port=0, temp_dir=Path(tmp) / "engine-tmp").start()
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            latencies = []
            try:
                for run in range(args.runs):  # anchor and engine interleaved, so CPU load hits both alike
                    start = time.perf_counter()
                    renderer.render(bridge.read_selected().midi_items[0].performance, sample_rate=48000, seed=0)
                    anchors.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    sock.sendto(osc_message("/readdsp/render", f"b{run}"), ("127.0.0.1", engine.port))
                    while True:
                        address, reply = osc_address_and_args(sock.recv(65536))
                        if address in ("/readdsp/done", "/readdsp/error") and reply[0] == f"b{run}":
                            break
                    latencies.append(time.perf_counter() - start)
                    if address == "/readdsp/error":
                        raise SystemExit(f"render failed: {reply}")
            finally:
                sock.close()
                engine.shutdown()
    latency, anchor = statistics.median(latencies), statistics.median(anchors)
    print(
        json.dumps(
            {
                "notes": performance.n_notes,
                "osc_to_take_s": round(latency, 3),
                "bare_render_s (anchor)": round(anchor, 3),
                "ratio_to_anchor": round(latency / anchor, 3),
                "reaper_overhead_s": round(latency - anchor, 3),
                "ratio_to_target_2s": round(latency / TARGET_S, 3),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
