"""The pitch wander of real held notes, which calibrates `core.synth.pitch_drift`: its spread and autocorrelation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from readdsp.training import real_recordings
from readdsp.training.audio_measures import PitchTrack, robust_spread

#: Lags (frames at 250 Hz: 20, 48, 100 and 200 ms) at which the autocorrelation is reported.
LAGS = (5, 12, 25, 50)
HELD_LENGTHS = ("1", "15", "very-long")
MIN_HELD_S = 0.8
MIN_FRAMES = 100
MAX_CENTS = 50.0  # a tracker's slip, not a player's wander


def held_note_wander(root: Path, folder: str = "bass-clarinet") -> list[np.ndarray]:
    """Pitch (cents about its median) in the sustained middle of each held, normally articulated Philharmonia note
    of `folder` that the real-recording evaluation does not use."""
    used = {recording.path for recording in real_recordings.philharmonia(root)}
    series = []
    for path, name, dynamic in real_recordings.philharmonia_files(root, folder, HELD_LENGTHS):
        if path in used:
            continue
        audio = real_recordings.load_mono(path)
        velocity = real_recordings.VELOCITY.get(dynamic, 72)
        note = real_recordings.timed_note(audio, real_recordings.pitch_from_name(name), velocity)
        if note is None or note.duration < MIN_HELD_S:
            continue
        pitch = PitchTrack.of(audio, real_recordings.RATE).sustained(note)
        if len(pitch) < MIN_FRAMES:
            continue
        cents = 100.0 * (pitch - np.median(pitch))
        if np.abs(cents).max() <= MAX_CENTS:
            series.append(cents)
    return series


def wander_statistics(series: list[np.ndarray]) -> dict[str, float | list[float]]:
    """Median and quartiles of the per-note spread (1.4826 x MAD, cents) and the median autocorrelation at LAGS."""
    spreads = [robust_spread(s) for s in series]
    autocorrelations = []
    for s in series:
        centred = s - s.mean()
        full = np.correlate(centred, centred, "full")[len(centred) - 1 :] / max(float(centred @ centred), 1e-12)
        autocorrelations.append(full[list(LAGS)])
    q25, median, q75 = np.percentile(spreads, [25, 50, 75])
    return {
        "notes": len(series),
        "spread_cents": float(median),
        "spread_quartiles": [float(q25), float(q75)],
        "autocorrelation": [round(float(v), 3) for v in np.median(autocorrelations, axis=0)],
    }
