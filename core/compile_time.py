"""Seconds spent compiling numba kernels in this process (on first use), so reports can keep it apart."""

from __future__ import annotations

import threading
import time

from numba.core import event

_lock = threading.Lock()
_total = 0.0


class _CompileClock(event.Listener):
    """Adds up the wall time of outermost kernel compilations (nested ones are inside them)."""

    def __init__(self) -> None:
        self.depth = 0
        self.started = 0.0

    def on_start(self, ev: event.Event) -> None:
        if self.depth == 0:
            self.started = time.perf_counter()
        self.depth += 1

    def on_end(self, ev: event.Event) -> None:
        global _total
        self.depth -= 1
        if self.depth == 0:
            with _lock:
                _total += time.perf_counter() - self.started


event.register("numba:compile", _CompileClock())


def compile_seconds() -> float:
    """Wall seconds this process has spent compiling kernels so far."""
    with _lock:
        return _total
