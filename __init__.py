"""ReaDDSP: expressive neural instruments and effect modelling for REAPER."""

from readdsp.core.memory import bound_library_caches
from readdsp.core.thread_policy import apply_passive_waiting

apply_passive_waiting()  # before anything loads torch or numba (their OpenMP runtime reads it once, at load)
bound_library_caches()  # likewise for oneDNN's primitive cache

__version__ = "0.1.0"
