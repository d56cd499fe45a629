"""Features of one training example on the 250 Hz grid: frame-aligned audio, f0, confidence and loudness."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from readdsp.core.features import a_weighted_loudness, track_f0

FRAME_RATE = 250


@dataclass
class ExampleFeatures:
    audio: np.ndarray  # float32, exactly n_frames * sample_rate / FRAME_RATE samples
    f0_hz: np.ndarray
    f0_confidence: np.ndarray
    loudness_db: np.ndarray


def frame_aligned(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Zero-pad or trim audio to a whole number of frames (`round(duration * 250)` frames)."""
    n_frames = int(round(len(audio) / sample_rate * FRAME_RATE))
    n_samples = n_frames * sample_rate // FRAME_RATE
    out = np.zeros(n_samples, np.float32)
    out[: min(n_samples, len(audio))] = audio[:n_samples]
    return out


def compute_features(audio: np.ndarray, sample_rate: int) -> ExampleFeatures:
    """f0 (SwiftF0) and A-weighted loudness for mono audio at a rate that is a multiple of 250 Hz."""
    aligned = frame_aligned(np.asarray(audio, np.float32), sample_rate)
    f0_hz, confidence = track_f0(aligned, sample_rate, FRAME_RATE)
    loudness = a_weighted_loudness(aligned, sample_rate, FRAME_RATE)
    n_frames = len(aligned) * FRAME_RATE // sample_rate
    assert len(f0_hz) == len(confidence) == len(loudness) == n_frames, "feature grids disagree"
    return ExampleFeatures(aligned, f0_hz, confidence, loudness)
