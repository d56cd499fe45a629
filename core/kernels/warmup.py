"""Compile the render's kernels ahead of need, in child processes started before torch loads (first render only).

numba compiles a kernel on its first call and caches it on disk, so the first render after install spent ~7 s
compiling the LSTM lanes, the f0 lane and the harmonic bank on its own critical path. `start_kernel_warmup` starts
`python -m readdsp.core.kernels.warmup PRECISION KERNEL...` (two children on two or more cores) when a kernel has no
fresh cache: a child (numpy and numba, no torch) calls each of its kernels once on tiny inputs of the render's own
types, in the order a render first needs them, and prints each one's name once its cache is written. Meanwhile the
render process loads torch and the model and plans the notes; `wait_for_kernels(name)` blocks only until that kernel
is ready, and numba then loads it from the cache. If a child fails or is slow, the render compiles the kernel itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

KERNELS = ("lstm_lanes", "f0_lane", "harmonic_bank")  # in the order a render first calls them
# one child per group, so two cores compile at once. The f0 lane follows the LSTM lanes in one child because it
# calls the same cell (numba compiles and caches it once there, not in both children: ~2 s less CPU in all); the
# harmonic bank, needed last, compiles alone beside them. First render of the example 8.65 -> 7.22 s (medians of 5).
CHILD_GROUPS = (("lstm_lanes", "f0_lane"), ("harmonic_bank",))
# the harmonic bank's child runs at a lower priority: its kernel is needed last, and at equal priority it took a third
# of the cores from the render's imports and the first child. First render of the example 8.11 -> 7.47 s (medians of
# 5, interleaved, on a slow spell of this machine when the warm render took 3.4-3.8 s). The child lowers its own
# priority (`--nice`): no preexec_fn, which is unsafe in a process that already runs threads.
LATER_CHILD_NICENESS = 5
WAIT_LIMIT_S = 120.0  # past this, the render stops waiting and compiles the kernel itself


class _Warmup:
    """The running warm-up children and one event per kernel, set when its child announces it (or ends)."""

    def __init__(self, children: dict[tuple[str, ...], subprocess.Popen[str]]):
        self.ready = {name: threading.Event() for name in KERNELS}
        for names, process in children.items():
            listener = threading.Thread(target=self._listen, args=(names, process), daemon=True)
            listener.start()

    def _listen(self, names: tuple[str, ...], process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip() in names:
                self.ready[line.strip()].set()
        for name in names:  # the child is done, or gone: nothing more to wait for
            self.ready[name].set()
        process.wait()


_running: _Warmup | None = None
_lock = threading.Lock()


def kernels_cached() -> bool:
    """True if every kernel the render calls has a cache index newer than its source (numba's on-disk cache)."""
    from readdsp.core.kernels import f0_lane, harmonic_bank, lstm_lanes

    dispatchers: tuple[Any, ...] = (  # numba Dispatchers; their cache attributes are not typed
        lstm_lanes.lstm_lane,
        f0_lane.f0_lane,
        harmonic_bank._interval_starts,
        harmonic_bank._phase_at_interval_starts,
        harmonic_bank._render_intervals,
    )
    try:
        for dispatcher in dispatchers:
            index = Path(dispatcher._cache._cache_file._index_path)  # numba internals: any change means "not cached"
            if index.stat().st_mtime < Path(dispatcher.py_func.__code__.co_filename).stat().st_mtime:
                return False
    except (AttributeError, OSError):
        return False
    return True


def start_kernel_warmup() -> bool:
    """Start compiling the kernels in child processes unless they are cached (or a warm-up is already running);
    True if it started one. Call it as early as possible, before importing torch."""
    global _running
    from readdsp.core.models.precision import inference_precision

    with _lock:
        if _running is not None or os.environ.get("NUMBA_DISABLE_JIT") == "1" or not _runs_python() or kernels_cached():
            return False
        groups: tuple[tuple[str, ...], ...] = CHILD_GROUPS if (os.cpu_count() or 1) > 1 else (KERNELS,)
        command = [sys.executable, "-m", "readdsp.core.kernels.warmup", inference_precision()]
        later = ["--nice", str(LATER_CHILD_NICENESS)]
        children = {
            names: _start_child([*command, *(later if index else []), *names]) for index, names in enumerate(groups)
        }
        _running = _Warmup(children)
        return True


def _runs_python() -> bool:
    """True if sys.executable is a Python interpreter (in a host application's embedded Python it may be the host,
    which must never be started)."""
    return Path(sys.executable).name.lower().startswith("python")


def _start_child(command: list[str]) -> subprocess.Popen[str]:
    """A warm-up child whose stdout (the kernels it has compiled) this process reads."""
    return subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )


def wait_for_kernels(name: str) -> None:
    """Block until a running warm-up has compiled kernel `name` (at once if none is running); the wait counts as
    compile time (`core.compile_time`)."""
    running = _running
    if running is None or running.ready[name].is_set():
        return
    from readdsp.core.compile_time import counted_as_compiling

    with counted_as_compiling():
        running.ready[name].wait(WAIT_LIMIT_S)


def compile_kernels(precision: str, names: tuple[str, ...], announce: Callable[[str], None]) -> None:
    """Call the kernels `names` once each on tiny inputs with the types a render passes (rows of `precision`'s
    bits), so numba compiles and caches the same specialisations; `announce(name)` after each."""
    import numpy as np

    from readdsp.core.kernels.f0_lane import f0_lane, lane_scratch
    from readdsp.core.kernels.harmonic_bank import render_harmonics
    from readdsp.core.kernels.lstm_lanes import bit_layout, lstm_lane, row_starts, slot_state

    bits, shift = bit_layout(precision)  # as packed_lstm.float_bits passes them
    hidden, n_classes = 4, 5
    lengths = np.array([3, 2], np.int64)
    starts, rows, n_frames = row_starts(lengths), np.arange(2, dtype=np.int64), int(lengths.sum())
    gates_in = np.zeros((n_frames, 4 * hidden), bits)
    w_hh_t = np.zeros((hidden, 4 * hidden), np.float32)
    for name in KERNELS:
        if name not in names:
            continue
        if name == "lstm_lanes":
            hidden_states = np.empty((n_frames, hidden), np.float32)
            lstm_lane(gates_in, shift, starts, lengths, rows, w_hh_t, False, hidden_states, slot_state(hidden))
        elif name == "f0_lane":
            f0_lane(
                gates_in,
                shift,
                starts,
                lengths,
                rows,
                np.zeros((n_classes + 1, 4 * hidden), np.float32),
                w_hh_t,
                np.ones(hidden, np.float32),
                np.zeros(hidden, np.float32),
                np.zeros((hidden, n_classes), np.float32),
                np.zeros(n_classes, np.float32),
                np.full(n_frames, 0.5, np.float32),
                0.95,
                n_classes,
                np.empty(n_frames, np.int64),
                slot_state(hidden),
                lane_scratch(hidden, n_classes),
            )
        else:
            render_harmonics(np.full(3, 220.0), np.full((3, 2), 0.1, np.float32), 96, 48.0, 12000.0)
        announce(name)


def main(argv: list[str] | None = None) -> int:
    """The child: argv is the precision, optionally `--nice N` (lower this process's priority by N), and the
    kernels to compile (default all); each is announced on stdout."""
    args = list(sys.argv[1:] if argv is None else argv)
    precision = args.pop(0) if args else "float32"
    if args[:1] == ["--nice"] and len(args) > 1:
        niceness = int(args[1])
        del args[:2]
        if hasattr(os, "nice"):
            os.nice(niceness)
    names = tuple(args) or KERNELS

    def announce(name: str) -> None:
        try:
            print(name, flush=True)
        except OSError:  # the render ended first: keep compiling, the cache still helps the next one
            pass

    compile_kernels(precision, names, announce)
    return 0


if __name__ == "__main__":
    sys.exit(main())
