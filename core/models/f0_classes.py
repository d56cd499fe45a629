"""The Synthesis Generator's f0 vocabulary: 201 one-cent classes of residual around the note pitch, and a go token."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

Indices = TypeVar("Indices", torch.Tensor, np.ndarray)

N_F0_CLASSES = 201  # f0 residual vs the note pitch in [-1, +1] semitone, 1-cent bins
GO_TOKEN = N_F0_CLASSES  # "previous output" at the first frame


def f0_residual_to_class(residual_semitones: torch.Tensor) -> torch.Tensor:
    """Semitone residual -> class index (clamped to [-1, +1] semitone)."""
    return torch.round(residual_semitones.clamp(-1.0, 1.0) * 100.0 + 100.0).long()


def class_to_f0_residual(index: Indices) -> Indices:
    """Class index -> semitone residual."""
    return (index - 100) / 100.0
