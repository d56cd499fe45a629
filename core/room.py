"""An optional room on a dry render: pedalboard's Reverb (Freeverb) with a bounded wet level."""

from __future__ import annotations

import numpy as np

from readdsp.core.errors import ReaDDSPError

#: The wet level at amount 1. Freeverb's tail carries about this share of the dry signal's level, so even the
#: largest amount keeps the notes in front of the room.
MAX_WET_LEVEL = 0.25
ROOM_SIZE = 0.55
DAMPING = 0.5


def check_reverb_amount(amount: float) -> float:
    """The amount, or a one-line error when it is not a number in [0, 1]."""
    if not np.isfinite(amount) or not 0.0 <= amount <= 1.0:
        raise ReaDDSPError(f"reverb amount {amount!r} is out of range (0..1)")
    return float(amount)


def add_room(audio: np.ndarray, sample_rate: int, amount: float) -> np.ndarray:
    """Dry audio (mono) with a room mixed in; amount 0 returns the audio unchanged. The tail may run past the end
    of `audio`: callers leave room for it."""
    amount = check_reverb_amount(amount)
    if amount == 0.0:
        return audio
    from pedalboard import Reverb

    room = Reverb(room_size=ROOM_SIZE, damping=DAMPING, wet_level=MAX_WET_LEVEL * amount, dry_level=1.0, width=0.0)
    return room(np.asarray(audio, np.float32)[None, :], float(sample_rate))[0]
