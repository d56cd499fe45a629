"""Keep a long render's heap in check: glibc keeps freed memory, and batches of varied large blocks fragment it."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

SOFT_LIMIT_MB = 1024  # trim the heap between batches once the process is this large


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, or None on other C libraries."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


def resident_mb() -> float:
    """This process's resident memory in MB (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def trim_heap_above(limit_mb: float = SOFT_LIMIT_MB) -> bool:
    """Return free heap pages to the OS if resident memory is over `limit_mb`; True if it trimmed.

    Trimming costs page faults when the memory is used again, so short renders, which stay under the limit, skip it.
    """
    trim = _malloc_trim()
    if trim is None or resident_mb() <= limit_mb:
        return False
    trim(0)
    return True
