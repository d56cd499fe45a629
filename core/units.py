"""Unit conversions in one place, for numpy arrays, torch tensors and floats: MIDI pitch <-> Hz, amplitude <-> dB."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

Values = TypeVar("Values", np.ndarray, torch.Tensor, float)

#: The lowest frequency pitch conversions accept: 0 Hz (unvoiced) has no pitch.
MIN_HZ = 1.0


def midi_to_hz(midi: Values) -> Values:
    """MIDI note number (fractional allowed) -> Hz, A4 = 69 = 440 Hz."""
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


def hz_to_midi(hz: Values) -> Values:
    """Hz -> MIDI note number, with frequencies under MIN_HZ read as MIN_HZ."""
    if isinstance(hz, torch.Tensor):
        return 12.0 * torch.log2(hz.clamp(min=MIN_HZ) / 440.0) + 69.0
    return 12.0 * np.log2(np.maximum(hz, MIN_HZ) / 440.0) + 69.0


def amplitude_to_db(amplitude: Values, floor_db: float = -80.0) -> Values:
    """20 log10(amplitude), floored at `floor_db` (DDSP's `amplitude_to_db`)."""
    floor = 10.0 ** (floor_db / 20.0)
    if isinstance(amplitude, torch.Tensor):
        return 20.0 * torch.log10(amplitude.clamp(min=floor))
    return 20.0 * np.log10(np.maximum(np.abs(np.asarray(amplitude, dtype=np.float64)), floor))


def db_to_gain(db: float) -> float:
    """Decibels -> linear amplitude gain."""
    return float(10.0 ** (db / 20.0))
