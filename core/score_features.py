"""Per-note score features for the performance model: notes in quarter notes (onset, duration) -> [n, N_FEATURES]."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_FEATURES = 18


@dataclass
class ScoreNotes:
    """One part's notes in score time, sorted by (onset, -pitch): quarters, and the bar length in force at each note."""

    pitch: np.ndarray  # int
    onset: np.ndarray  # float, quarter notes from the start
    duration: np.ndarray  # float, quarter notes
    bar_start: np.ndarray  # float, quarter position of the bar each note falls in
    bar_length: np.ndarray  # float, quarters per bar there

    def __len__(self) -> int:
        return len(self.pitch)


def score_order(pitch: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """The order the networks read notes in: by onset, then highest pitch first (melody before accompaniment)."""
    return np.lexsort((-np.asarray(pitch), np.round(np.asarray(onset, float), 4)))


def bar_grid(onset: np.ndarray, meters: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """(bar start, bar length) for each onset from time-signature changes [(quarter position, quarters per bar)]."""
    meters = sorted(meters) or [(0.0, 4.0)]
    if meters[0][0] > 0:
        meters = [(0.0, meters[0][1]), *meters]
    starts = np.array([m[0] for m in meters])
    lengths = np.array([max(m[1], 0.25) for m in meters])
    index = np.clip(np.searchsorted(starts, onset, side="right") - 1, 0, len(meters) - 1)
    origin, length = starts[index], lengths[index]
    bar_start = origin + np.floor(np.maximum(onset - origin, 0.0) / length + 1e-6) * length
    return bar_start, length


def _log_quarters(values: np.ndarray) -> np.ndarray:
    return np.log2(np.clip(values, 1 / 32, 16.0)) / 4.0


def score_features(notes: ScoreNotes) -> np.ndarray:
    """float32 [n, N_FEATURES]: pitch, durations and gaps, metrical phase, chord size and rank, local register
    (mean, and the distance below the local top and above the local bottom note) and density. Notes must be in
    `score_order`."""
    n = len(notes)
    pitch = notes.pitch.astype(float)
    onset = notes.onset.astype(float)
    key = np.round(onset, 4)
    unique, first, counts = np.unique(key, return_index=True, return_counts=True)
    group = np.searchsorted(unique, key)
    rank = np.arange(n) - first[group]
    gaps = np.diff(unique, append=unique[-1] + 1.0) if len(unique) else np.zeros(0)
    previous_gaps = np.diff(unique, prepend=unique[0] - 1.0) if len(unique) else np.zeros(0)
    bar_phase = (onset - notes.bar_start) / notes.bar_length
    beat_phase = onset - np.floor(onset + 1e-6)
    local_mean, density, local_max, local_min = _local_stats(onset, pitch)
    features = np.stack(
        [
            pitch / 127.0 - 0.5,
            _log_quarters(notes.duration),
            _log_quarters(gaps[group]),
            _log_quarters(previous_gaps[group]),
            np.sin(2 * np.pi * bar_phase),
            np.cos(2 * np.pi * bar_phase),
            np.sin(2 * np.pi * beat_phase),
            np.cos(2 * np.pi * beat_phase),
            (bar_phase < 1e-3).astype(float),
            np.minimum(counts[group], 8) / 8.0,
            np.minimum(rank, 8) / 8.0,
            (rank == 0).astype(float),
            (rank == counts[group] - 1).astype(float),
            (pitch - local_mean) / 24.0,
            np.minimum(density, 40.0) / 10.0,
            notes.bar_length / 4.0 - 1.0,
            (local_max - pitch) / 24.0,
            (pitch - local_min) / 24.0,
        ],
        axis=1,
    )
    return features.astype(np.float32)


def _local_stats(onset: np.ndarray, pitch: np.ndarray) -> tuple[np.ndarray, ...]:
    """Mean, highest and lowest pitch and notes per quarter within +-4 quarters (cumulative sums and a sparse
    table of range extremes, so long parts stay fast)."""
    lo = np.searchsorted(onset, onset - 4.0 - 1e-6, side="left")
    hi = np.searchsorted(onset, onset + 4.0 + 1e-6, side="right")
    cumulative = np.concatenate([[0.0], np.cumsum(pitch)])
    count = hi - lo
    return (
        (cumulative[hi] - cumulative[lo]) / count,
        count / 8.0,
        _range_extreme(pitch, lo, hi, np.maximum),
        _range_extreme(pitch, lo, hi, np.minimum),
    )


def _range_extreme(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, pick) -> np.ndarray:
    """pick (np.maximum or np.minimum) over values[lo:hi] for each row (hi > lo), by a sparse table."""
    if not len(values):
        return values.copy()
    levels = [values]
    while 2 ** len(levels) <= len(values):
        half = 2 ** (len(levels) - 1)
        previous = levels[-1]
        levels.append(pick(previous[:-half], previous[half:]))
    k = np.floor(np.log2(hi - lo)).astype(int)
    out = np.empty(len(lo))
    for level in np.unique(k):
        rows = k == level
        table = levels[level]
        out[rows] = pick(table[lo[rows]], table[hi[rows] - 2**level])
    return out
