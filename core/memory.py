"""Keep a long render's heap in check: glibc keeps freed memory, and batches of varied large blocks fragment it."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

SOFT_LIMIT_MB = 1024  # trim the heap between batches once the process is this large
# oneDNN (torch's bfloat16 products) caches a compiled primitive, with its scratch memory, for every matrix shape it
# meets, up to 1024 by default; a render's packed batches rarely repeat a shape, so the cache only grew: a 10-minute
# quartet in bfloat16 peaked at 1110 MB with it and 898 MB with 4 kept (float32 846 MB either way), no slower.
BOUNDED_CACHES = {"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "4"}
# glibc mallopt parameters (malloc.h) and the values a render sets
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
KEEP_BLOCKS_BELOW = 256 * 2**20  # blocks up to this size come from the heap and are reused once freed
KEEP_FREE_TOP = 512 * 2**20  # free memory at the heap's top is returned to the OS past this


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, or None where it cannot be found."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def _malloc_trim():
    """glibc's malloc_trim, or None on other C libraries."""
    return getattr(_libc(), "malloc_trim", None)


@functools.cache
def reuse_freed_blocks() -> bool:
    """Let the heap keep and reuse the large blocks a render frees (glibc only; True if set).

    By default glibc serves blocks over 128 kB-32 MB with mmap and unmaps them on free, so each batch's tensors fault
    their pages in afresh: on a 6-minute quartet that was ~300k page faults and a third of the render's time in the
    kernel. `trim_heap_above` still hands memory back between batches once the process is large.
    """
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, KEEP_BLOCKS_BELOW)) and bool(mallopt(M_TRIM_THRESHOLD, KEEP_FREE_TOP))


def bound_library_caches() -> dict[str, str]:
    """Set the cache bounds the user has not set, before torch loads; returns those now in force."""
    for name, value in BOUNDED_CACHES.items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in BOUNDED_CACHES}


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
