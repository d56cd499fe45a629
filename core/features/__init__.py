"""Audio and synthesis-parameter features: A-weighted loudness, f0 tracking, note expression controls."""

from readdsp.core.features.expression import amplitude_to_db, extract_expression, frame_features
from readdsp.core.features.f0 import VOICED_THRESHOLD, track_f0
from readdsp.core.features.loudness import (
    DB_RANGE,
    a_weighted_loudness,
    a_weighted_loudness_torch,
    loudness_n_frames,
)

__all__ = [
    "DB_RANGE",
    "VOICED_THRESHOLD",
    "a_weighted_loudness",
    "a_weighted_loudness_torch",
    "amplitude_to_db",
    "extract_expression",
    "frame_features",
    "loudness_n_frames",
    "track_f0",
]
