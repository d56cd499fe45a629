"""The float type inference runs its large products in: bfloat16 where the CPU has matrix tiles for it, else float32.

The choice is read without torch (`inference_precision`), so the kernel warm-up can know it before torch loads.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from readdsp.core.errors import ReaDDSPError

if TYPE_CHECKING:
    import torch

PRECISION_ENV = "READDSP_PRECISION"  # "auto" (default), "float32" or "bfloat16"
BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of x86 bfloat16 arithmetic
log = logging.getLogger(__name__)


def bfloat16_instructions(cpuinfo: str) -> list[str]:
    """The x86 bfloat16 instruction sets a /proc/cpuinfo text lists (none: bfloat16 products are emulated)."""
    flags = set(cpuinfo.split())
    return [flag for flag in BFLOAT16_FLAGS if flag in flags]


def cpuinfo() -> str:
    """The text of /proc/cpuinfo (empty where there is none)."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


@functools.cache
def cpu_has_native_bfloat16() -> bool:
    """True on CPUs with AMX-BF16 tiles, whose bfloat16 matrix products oneDNN runs on them.

    AVX512-BF16 alone does not count: on such a Xeon, torch 2.13's bfloat16 products ran at 81 GFLOP/s against
    float32's 128-138 (8192x256x256 and 4096x512x512, one thread), and the 6-minute quartet rendered in 10.9 s in
    bfloat16 against 8.8 s in float32 (`bench/bench_render_real.py --quick`). AMX was not measured here.
    """
    return "amx_bf16" in bfloat16_instructions(cpuinfo())


@functools.cache
def _warn_if_emulated() -> None:
    """Say once that a bfloat16 asked for on an x86 CPU without bfloat16 arithmetic is emulated (and slower)."""
    info = cpuinfo()
    if "flags" in info and not bfloat16_instructions(info):
        log.warning(
            "%s=bfloat16: this CPU has no bfloat16 instructions, so bfloat16 is emulated and runs slower than "
            "float32 (1.6-1.8x the time on a 6-minute quartet, docs/render_speed.md); auto picks float32 here",
            PRECISION_ENV,
        )


def inference_precision() -> str:
    """The precision name: bfloat16 where it is native (unless READDSP_PRECISION says otherwise), else float32."""
    choice = os.environ.get(PRECISION_ENV, "auto").lower()
    if choice == "bfloat16":
        _warn_if_emulated()
    if choice in ("float32", "bfloat16"):
        return choice
    if choice != "auto":
        raise ReaDDSPError(f"{PRECISION_ENV} must be auto, float32 or bfloat16, not {choice!r}")
    return "bfloat16" if cpu_has_native_bfloat16() else "float32"


def inference_dtype() -> torch.dtype:
    """`inference_precision` as a torch dtype."""
    import torch

    return torch.bfloat16 if inference_precision() == "bfloat16" else torch.float32
