"""Seconds spent compiling numba kernels in this process (on first use), so reports can keep it apart."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from numba.core import event

_lock = threading.Lock()
_total = 0.0
_active = 0  # compilations (or waits for a warm-up child's) under way, in any thread
_since = 0.0


def _begin() -> None:
    global _active, _since
    with _lock:
        if _active == 0:
            _since = time.perf_counter()
        _active += 1


def _end() -> None:
    global _active, _total
    with _lock:
        _active -= 1
        if _active == 0:
            _total += time.perf_counter() - _since


class _CompileClock(event.Listener):
    """Counts numba's compile events; nested and concurrent ones are one stretch of wall time."""

    def on_start(self, ev: event.Event) -> None:
        _begin()

    def on_end(self, ev: event.Event) -> None:
        _end()


event.register("numba:compile", _CompileClock())


@contextmanager
def counted_as_compiling() -> Iterator[None]:
    """Count the block's wall time as compiling (a wait for kernels another process compiles), merged with any
    compilation or wait that overlaps it."""
    _begin()
    try:
        yield
    finally:
        _end()


def compile_seconds() -> float:
    """Wall seconds during which this process was compiling kernels, or waiting for them, so far."""
    with _lock:
        return _total
