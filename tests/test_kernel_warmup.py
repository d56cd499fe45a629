"""The kernel warm-up children compile exactly the specialisations a render calls, and a render never hangs on them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from readdsp.core.kernels import warmup

RENDER_AND_REPORT = """
import json, readdsp
from readdsp.core.kernels import f0_lane, harmonic_bank, lstm_lanes
from readdsp.core.kernels.warmup import kernels_cached
cached = kernels_cached()
from readdsp.core.performance import Note, Part, Performance
from readdsp.core.render import Renderer
melody = [Note(67 + i, 0.4 * i, 0.4 * i + 0.35, 90) for i in range(4)]
Renderer.load().render(Performance([Part("Violin", 40, notes=melody)]), stems=False)
kernels = (lstm_lanes.lstm_lane, f0_lane.f0_lane, harmonic_bank._interval_starts,
           harmonic_bank._phase_at_interval_starts, harmonic_bank._render_intervals)
print(json.dumps({"cached": cached, "misses": sum(sum(k.stats.cache_misses.values()) for k in kernels),
                  "hits": sum(sum(k.stats.cache_hits.values()) for k in kernels)}))
"""


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_the_warmup_caches_every_kernel_a_render_calls(precision: str, tmp_path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "READDSP_PRECISION": precision}
    child = [sys.executable, "-m", "readdsp.core.kernels.warmup", precision, *warmup.KERNELS]
    announced = subprocess.run(child, env=env, capture_output=True, text=True, check=True, timeout=600).stdout
    assert announced.split() == list(warmup.KERNELS)
    report = subprocess.run(
        [sys.executable, "-c", RENDER_AND_REPORT], env=env, capture_output=True, text=True, timeout=600
    )
    assert report.returncode == 0, report.stderr[-2000:]
    assert json.loads(report.stdout.splitlines()[-1]) == {"cached": True, "misses": 0, "hits": 5}


def test_the_install_step_leaves_the_first_render_nothing_to_compile(tmp_path) -> None:
    """`readdsp warmup` (the README's install step) fills numba's cache with what a render calls."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "READDSP_PRECISION": "float32"}
    warmup_cli = [sys.executable, "-m", "readdsp.scripts.cli", "warmup"]
    first = subprocess.run(warmup_cli, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "compiled in" in first.stdout
    again = subprocess.run(warmup_cli, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "already compiled" in again.stdout
    report = subprocess.run(
        [sys.executable, "-c", RENDER_AND_REPORT], env=env, capture_output=True, text=True, timeout=600
    )
    assert report.returncode == 0, report.stderr[-2000:]
    assert json.loads(report.stdout.splitlines()[-1]) == {"cached": True, "misses": 0, "hits": 5}


def test_a_later_child_lowers_its_own_priority_and_still_compiles(tmp_path) -> None:
    script = (
        "import os; from readdsp.core.kernels import warmup; "
        "warmup.main(['float32', '--nice', '3', 'harmonic_bank']); print('niceness', os.nice(0))"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["harmonic_bank", "niceness", str(os.nice(0) + 3)]


def test_a_child_that_dies_releases_the_wait() -> None:
    crashed = warmup._start_child([sys.executable, "-c", "import sys; print('lstm_lanes', flush=True); sys.exit(3)"])
    running = warmup._Warmup({warmup.KERNELS: crashed})
    for name in warmup.KERNELS:
        assert running.ready[name].wait(60)
    assert crashed.wait(60) == 3


def test_overlapping_waits_count_once_as_compile_time() -> None:
    """Two threads waiting for one kernel at once add their shared wall time once, not twice."""
    import threading
    import time

    from readdsp.core.compile_time import compile_seconds, counted_as_compiling

    before = compile_seconds()
    started = time.perf_counter()
    barrier = threading.Barrier(2)

    def wait() -> None:
        with counted_as_compiling():
            barrier.wait()
            time.sleep(0.3)

    threads = [threading.Thread(target=wait) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 0.3 <= compile_seconds() - before <= time.perf_counter() - started


def test_the_render_picture_compiles_nothing(tmp_path) -> None:
    """`render --plot` draws its spectrogram without numba: librosa's stft and power_to_db compiled on first use (20+ s
    of CPU on a fresh install), and the README's first render had counted it as compile time ('rendered in 9.0 s ...
    of which 13.9 s compiling'; the summary now also reads that clock before the plot)."""
    script = f"""
import numpy as np
from numba.core import event
from readdsp.core.performance import Performance
from readdsp.core.plotting import plot_render
compiled = []
class Count(event.Listener):
    def on_start(self, ev): compiled.append(1)
    def on_end(self, ev): pass
event.register("numba:compile", Count())
noise = np.random.default_rng(0).standard_normal(48000).astype(np.float32)
plot_render(noise, 48000, Performance([]), {str(tmp_path / "p.png")!r})
print(len(compiled))
"""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}  # empty: anything numba-compiled compiles here
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "0"
