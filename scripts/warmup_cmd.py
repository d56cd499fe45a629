"""`readdsp warmup`: compile the synthesis kernels now, as the install step, so the first render only loads them."""

from __future__ import annotations

import argparse
import os
import time


def register(sub: argparse._SubParsersAction) -> None:
    warmup = sub.add_parser(
        "warmup",
        help="compile the synthesis kernels now (part of installing: the first render then loads them from cache)",
    )
    warmup.set_defaults(func=run_warmup)


def run_warmup(args: argparse.Namespace) -> int:
    from readdsp.core.errors import ReaDDSPError
    from readdsp.core.kernels.warmup import KERNELS, kernels_cached, start_kernel_warmup, wait_for_kernels
    from readdsp.core.models.precision import inference_precision

    precision = inference_precision()
    if os.environ.get("NUMBA_DISABLE_JIT") == "1":
        print("synthesis kernels: numba's JIT is disabled (NUMBA_DISABLE_JIT=1); nothing to compile")
        return 0
    if kernels_cached():
        print(f"synthesis kernels ({precision}): already compiled, in numba's cache")
        return 0
    started = time.perf_counter()
    start_kernel_warmup()
    for name in KERNELS:
        wait_for_kernels(name)
    if not kernels_cached():
        raise ReaDDSPError("the synthesis kernels did not compile; the first render will compile them itself")
    print(f"synthesis kernels ({precision}) compiled in {time.perf_counter() - started:.1f} s; renders load them")
    return 0
