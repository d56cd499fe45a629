"""Gain staging: each instrument's calibrated level, CC11 (expression) gain and the headroom rule for many parts."""

from __future__ import annotations

import numpy as np

from readdsp.core.performance import Part
from readdsp.core.units import db_to_gain  # noqa: F401  (re-exported for the render path)

#: Loudness (LUFS, ITU-R BS.1770) of a sustained note at velocity 100 and volume 0.5, for every instrument.
#: Each bundle's sidecar stores the gain per instrument that puts it there (`readdsp evaluate` measures it).
#: At -32, the loudest of five real quartets and a fugue (Haydn op. 74 no. 1/i, fortissimo tutti) peaked at
#: +0.4 dBFS; at -35 it peaks at -2.6 and the quartets' mixes sit near -23 LUFS (docs/training.md).
REFERENCE_LUFS = -35.0
#: After calibration, an instrument that plays louder against the others, at velocity 100 with its expression
#: generated, than the training source's instrument does against the source's others, is lowered by that excess, at
#: most this far, inside the +-3 dB the documented level allows. The Expression Generator learned each instrument's
#: volume from the corpus, and the jazz trumpet's sits high (its test phrase peaked at +0.3 dBFS alone).
BALANCE_LIMIT_DB = 2.5
#: The test note of the calibration: held this long, at this velocity and volume.
CALIBRATION_NOTE_S = 2.0
CALIBRATION_VELOCITY = 100
CALIBRATION_VOLUME = 0.5
EXPRESSION_CC = 11


def headroom_gain(n_parts: int) -> float:
    """Gain applied to every part of an n-part mix: 1/sqrt(n), so n uncorrelated parts at the same level sum to
    the loudness of one (+3 dB per doubling of parts is taken back). One part keeps unity gain."""
    return 1.0 / float(np.sqrt(max(n_parts, 1)))


def expression_gain(part: Part, times_s: np.ndarray) -> np.ndarray | None:
    """CC11 as a gain at `times_s`: (value/127)^2, the General MIDI curve (40 log10(v/127) dB) that FluidSynth and
    the training renders follow; each value holds until the next event. None when the part has no CC11."""
    events = sorted(part.cc.get(EXPRESSION_CC, []))
    if not events:
        return None
    times = np.array([t for t, _ in events], dtype=np.float64)
    values = np.array([v for _, v in events], dtype=np.float64)
    index = np.searchsorted(times, times_s, side="right") - 1
    held = np.where(index >= 0, values[np.maximum(index, 0)], 127.0)
    return np.square(np.clip(held, 0.0, 127.0) / 127.0).astype(np.float32)
