"""Writing renders: bit depth, optional loudness normalisation, and clip checks that never let integers wrap."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from readdsp.core.atomic import write_wav
from readdsp.core.errors import ReaDDSPError
from readdsp.core.units import amplitude_to_db

SUBTYPES = {"16": "PCM_16", "24": "PCM_24", "32f": "FLOAT"}
#: Integer formats hold [-1, 1); a float sample past full scale is clipped there and reported.
FULL_SCALE = 1.0


def check_bit_depth(bit_depth: str) -> str:
    if bit_depth not in SUBTYPES:
        raise ReaDDSPError(f"bit depth {bit_depth!r} is not one of {', '.join(SUBTYPES)}")
    return bit_depth


def loudness_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (ITU-R BS.1770, pyloudnorm); -inf for silence or audio under one gating block."""
    import pyloudnorm

    if len(audio) < int(0.4 * sample_rate) or not np.any(audio):
        return float("-inf")
    return float(pyloudnorm.Meter(sample_rate).integrated_loudness(np.asarray(audio, np.float64)))


def check_target_lufs(target_lufs: float) -> float:
    if not np.isfinite(target_lufs) or not -70.0 <= target_lufs <= 0.0:
        raise ReaDDSPError(f"target loudness {target_lufs!r} LUFS is out of range (-70..0)")
    return float(target_lufs)


def normalize_gain(audio: np.ndarray, sample_rate: int, target_lufs: float) -> float:
    """The gain that brings `audio` to `target_lufs` (1 for silence)."""
    check_target_lufs(target_lufs)
    measured = loudness_lufs(audio, sample_rate)
    return 1.0 if not np.isfinite(measured) else float(10.0 ** ((target_lufs - measured) / 20.0))


def first_clip_s(audio: np.ndarray, sample_rate: int) -> float | None:
    """Time of the first sample at or past full scale, or None."""
    over = np.flatnonzero(np.abs(audio) >= FULL_SCALE)
    return None if over.size == 0 else float(over[0]) / sample_rate


def clip_warnings(tracks: Mapping[str, np.ndarray], sample_rate: int, bit_depth: str) -> list[str]:
    """One warning per track that reaches full scale in an integer format (a float file keeps the overs)."""
    if SUBTYPES[check_bit_depth(bit_depth)] == "FLOAT":
        return []
    found = []
    for label, audio in tracks.items():
        at = first_clip_s(audio, sample_rate)
        if at is not None:
            peak_db = float(amplitude_to_db(float(np.max(np.abs(audio))), floor_db=-240.0))
            found.append(f"{label}: clipped at {at:.2f} s (peak {peak_db:+.1f} dBFS); lower the level or use 32f")
    return found


def write_audio(path: str | Path, audio: np.ndarray, sample_rate: int, bit_depth: str = "32f") -> Path:
    """Write mono audio atomically; integer formats are clipped to full scale first, so they never wrap."""
    subtype = SUBTYPES[check_bit_depth(bit_depth)]
    if subtype != "FLOAT":
        audio = np.clip(audio, -FULL_SCALE, FULL_SCALE * (1.0 - 2.0**-23))
    return write_wav(path, audio, sample_rate, subtype=subtype)
