"""Idle worker threads sleep instead of spinning: set before torch or numba load their OpenMP runtime.

libgomp (torch's and numba's `omp` threading layer on Linux) spins a finished worker for up to ~300k iterations
before sleeping, and Intel's runtime for 200 ms (KMP_BLOCKTIME). On a machine whose cores are shared (a DAW is
always running), a spinning worker takes the core the other worker or the other process needs: a render's CPU time
rose 1.2-2.8x under load. Passive waiting costs nothing measurable on a quiet machine. A value the user set in the
environment is kept.
"""

from __future__ import annotations

import os

PASSIVE_WAITING = {
    "OMP_WAIT_POLICY": "PASSIVE",  # libgomp and Intel OpenMP: sleep as soon as a parallel region ends
    "KMP_BLOCKTIME": "0",  # Intel OpenMP (MKL / oneDNN builds linked to it): no spin after a region
}


def apply_passive_waiting() -> dict[str, str]:
    """Set the passive-waiting variables the user has not set; returns those now in force."""
    for name, value in PASSIVE_WAITING.items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in PASSIVE_WAITING}
