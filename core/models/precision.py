"""The float type inference runs its large products in: bfloat16 where the CPU multiplies it natively, else float32."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import torch

from readdsp.core.errors import ReaDDSPError

PRECISION_ENV = "READDSP_PRECISION"  # "auto" (default), "float32" or "bfloat16"


@functools.cache
def cpu_has_native_bfloat16() -> bool:
    """True on CPUs with AMX-BF16 or AVX512-BF16 (where bfloat16 matrix products are several times faster)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def inference_dtype() -> torch.dtype:
    """bfloat16 where it is native (unless READDSP_PRECISION says otherwise), else float32."""
    choice = os.environ.get(PRECISION_ENV, "auto").lower()
    if choice == "float32":
        return torch.float32
    if choice == "bfloat16":
        return torch.bfloat16
    if choice != "auto":
        raise ReaDDSPError(f"{PRECISION_ENV} must be auto, float32 or bfloat16, not {choice!r}")
    return torch.bfloat16 if cpu_has_native_bfloat16() else torch.float32
