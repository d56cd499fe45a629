"""Per-pitch bands a generated control is kept within: what the training data held at each pitch (bundle sidecar)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from readdsp.core.bundle import Bundle, sidecar_path
from readdsp.core.errors import ReaDDSPError

#: The sidecar key: instrument -> {"pitches": [...], "low": [...], "high": [...], "hold_below": bool,
#: "hold_above": bool} for the brightness control (the two flags may be left out: false).
SIDECAR_KEY = "brightness_band"
HOLD_KEYS = ("hold_below", "hold_above")


@dataclass(frozen=True)
class PitchBand:
    """Bounds of one control at a rising run of MIDI pitches, linearly interpolated between them. Outside the run
    the data said nothing, so nothing is bounded there, unless that side holds its end bounds (`hold_below`,
    `hold_above`: fitted by whether that brings notes there closer to the source, `training.band_reach`)."""

    pitches: np.ndarray
    low: np.ndarray
    high: np.ndarray
    hold_below: bool = False
    hold_above: bool = False

    def clip(self, pitches: np.ndarray, values: np.ndarray) -> np.ndarray:
        """`values` (one per note) kept within the band at each note's pitch where the band bounds it."""
        bounded = ((pitches >= self.pitches[0]) | self.hold_below) & ((pitches <= self.pitches[-1]) | self.hold_above)
        low = np.where(bounded, np.interp(pitches, self.pitches, self.low), -np.inf)
        high = np.where(bounded, np.interp(pitches, self.pitches, self.high), np.inf)
        return np.clip(values, low, high).astype(values.dtype)

    def holding(self, hold_below: bool, hold_above: bool) -> PitchBand:
        """The same bounds, holding their ends beyond the pitches as given."""
        return PitchBand(self.pitches, self.low, self.high, hold_below, hold_above)

    def to_dict(self) -> dict:
        return {
            "pitches": self.pitches.tolist(),
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "hold_below": self.hold_below,
            "hold_above": self.hold_above,
        }


def brightness_bands(bundle: Bundle) -> dict[str, PitchBand]:
    """Each instrument's brightness band from the sidecar, checked (instruments without one are not bounded)."""
    raw = bundle.sidecar.get(SIDECAR_KEY, {})
    where = sidecar_path(bundle.path)
    if not isinstance(raw, dict):
        raise ReaDDSPError(f"{SIDECAR_KEY} must be an object of instrument -> band", where)
    return {
        name: parse_band(raw[name], f"{SIDECAR_KEY} for {name!r}", where) for name in bundle.instruments if name in raw
    }


def parse_band(entry: object, label: str, where: Path) -> PitchBand:
    """A band from its JSON form; a one-line error naming `label` unless the pitches are distinct rising MIDI
    numbers, each bound is a finite number in 0..1 with low <= high, and each hold flag given is true or false."""
    columns = entry if isinstance(entry, dict) else {}
    pitches, low, high = (columns.get(key) for key in ("pitches", "low", "high"))
    if not (isinstance(pitches, list) and isinstance(low, list) and isinstance(high, list)) or not (
        0 < len(pitches) == len(low) == len(high)
    ):
        raise ReaDDSPError(f"{label} must hold equally long, non-empty lists 'pitches', 'low' and 'high'", where)
    numbers = [*pitches, *low, *high]
    if any(isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) for v in numbers):
        raise ReaDDSPError(f"{label} must hold finite numbers only", where)
    if any(not 0 <= p <= 127 for p in pitches) or bool(np.any(np.diff(pitches) <= 0)):
        raise ReaDDSPError(f"{label}: pitches must rise within 0..127", where)
    if any(not 0.0 <= lo <= hi <= 1.0 for lo, hi in zip(low, high, strict=True)):
        raise ReaDDSPError(f"{label}: each bound must lie in 0..1 with low <= high", where)
    holds = [columns.get(key, False) for key in HOLD_KEYS]
    if not all(isinstance(hold, bool) for hold in holds):
        raise ReaDDSPError(f"{label}: {' and '.join(HOLD_KEYS)} must be true or false", where)
    return PitchBand(np.asarray(pitches, float), np.asarray(low, float), np.asarray(high, float), *holds)
