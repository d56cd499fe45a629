"""NAM-style capture material: silence pre-roll, impulses, sweeps and noise bursts at several levels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

PRE_SILENCE_SECONDS = 0.5
IMPULSE_SPACING_SECONDS = 0.35
N_IMPULSES = 4
NOISE_LEVELS_DB = (-36.0, -24.0, -16.0, -9.0, -4.0)
SWEEP_LEVELS_DB = (-20.0, -6.0)


@dataclass
class Capture:
    """Capture audio and where its impulses are (sample indices), for latency measurement."""

    audio: np.ndarray
    impulse_positions: list[int]


def capture_signal(sr: int, seed: int) -> Capture:
    """Pre-roll silence, impulses, log sweeps 40 Hz..12 kHz and white-noise bursts at several levels."""
    rng = np.random.default_rng(seed)
    parts: list[np.ndarray] = [np.zeros(int(PRE_SILENCE_SECONDS * sr))]
    impulses: list[int] = []
    pos = len(parts[0])
    spacing = int(IMPULSE_SPACING_SECONDS * sr)
    for i in range(N_IMPULSES):
        block = np.zeros(spacing)
        block[0] = 0.5 if i % 2 else 0.9
        impulses.append(pos)
        parts.append(block)
        pos += spacing
    for level_db in SWEEP_LEVELS_DB:
        t = np.arange(int(2.0 * sr)) / sr
        sweep = sps.chirp(t, 40.0, t[-1], min(12000.0, 0.45 * sr), method="logarithmic")
        sweep *= np.hanning(len(sweep)) ** 0.1
        parts += [10 ** (level_db / 20) * sweep, np.zeros(int(0.2 * sr))]
    for level_db in NOISE_LEVELS_DB:
        burst = rng.standard_normal(int(rng.uniform(0.3, 0.6) * sr))
        burst *= 10 ** (level_db / 20) / max(np.std(burst), 1e-9)
        parts += [np.clip(burst, -0.9, 0.9), np.zeros(int(rng.uniform(0.1, 0.3) * sr))]
    return Capture(np.concatenate(parts).astype(np.float32), impulses)
