"""Idle worker threads sleep instead of spinning: set before torch or numba load their OpenMP runtime.

libgomp (torch's and numba's `omp` threading layer on Linux) spins a finished worker for up to ~300k iterations
before sleeping, and Intel's runtime for 200 ms (KMP_BLOCKTIME). On a machine whose cores are shared (a DAW is
always running), a spinning worker takes the core the other worker or the other process needs: a render's CPU time
rose 1.2-2.8x under load. Passive waiting costs nothing measurable on a quiet machine. A value the user set in the
environment is kept.

`in_lanes` runs the compiled kernels' independent lanes on a shared pool of plain threads (the kernels release the
GIL), in place of numba `prange` kernels: those cost ~1-2 s of CPU each to compile on the first render after install.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

PASSIVE_WAITING = {
    "OMP_WAIT_POLICY": "PASSIVE",  # libgomp and Intel OpenMP: sleep as soon as a parallel region ends
    "KMP_BLOCKTIME": "0",  # Intel OpenMP (MKL / oneDNN builds linked to it): no spin after a region
}


def apply_passive_waiting() -> dict[str, str]:
    """Set the passive-waiting variables the user has not set; returns those now in force."""
    for name, value in PASSIVE_WAITING.items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in PASSIVE_WAITING}


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def in_lanes(run_lane: Callable[[int], None], n_lanes: int) -> None:
    """run_lane(lane) for lanes 0..n_lanes-1: lane 0 on this thread, the others on a shared pool's threads."""
    global _pool
    futures = []
    if n_lanes > 1:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="readdsp-lane")
        futures = [_pool.submit(run_lane, lane) for lane in range(1, n_lanes)]
    if n_lanes > 0:
        run_lane(0)
    for future in futures:
        future.result()
