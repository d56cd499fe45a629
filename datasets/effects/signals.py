"""The seed thesis's clean test material: chirps, sines, squares and saws in 10 s segments (seeded)."""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

SEGMENT_SECONDS = 10.0
LOW_HZ = 80.0
HIGH_HZ = 1200.0
WAVEFORMS = ("log_chirp", "linear_chirp", "sine", "square", "saw")


def _tone(kind: str, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / sr
    f0, f1 = np.exp(rng.uniform(np.log(LOW_HZ), np.log(HIGH_HZ), size=2))
    if kind == "log_chirp":
        return sps.chirp(t, f0, t[-1] if n > 1 else 1.0, f1, method="logarithmic")
    if kind == "linear_chirp":
        return sps.chirp(t, f0, t[-1] if n > 1 else 1.0, f1, method="linear")
    phase = 2 * np.pi * f0 * t + rng.uniform(0, 2 * np.pi)
    if kind == "sine":
        return np.sin(phase)
    if kind == "square":
        return sps.square(phase)
    return sps.sawtooth(phase)


def _envelope(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A pluck-like envelope: short attack, sustain or exponential decay, short release."""
    attack = max(1, int(sr * rng.uniform(0.002, 0.02)))
    release = max(1, int(sr * 0.005))
    env = np.ones(n)
    env[:attack] = np.linspace(0.0, 1.0, min(attack, n))[: min(attack, n)]
    if rng.random() < 0.6:
        tau = rng.uniform(0.15, 1.5)
        env *= np.exp(-np.arange(n) / (tau * sr))
    env[-release:] *= np.linspace(1.0, 0.0, min(release, n))
    return env


def seed_segment(sr: int, rng: np.random.Generator, seconds: float = SEGMENT_SECONDS) -> np.ndarray:
    """One segment: notes of one waveform family with varying density, gaps and levels."""
    n = int(round(seconds * sr))
    out = np.zeros(n)
    kind = WAVEFORMS[int(rng.integers(len(WAVEFORMS)))]
    n_notes = int(rng.integers(1, 12))  # density
    pos = 0
    mean_slot = n / n_notes
    for _ in range(n_notes):
        pos += int(rng.uniform(0.0, 0.3) * mean_slot)  # gap before the note
        length = int(rng.uniform(0.3, 1.0) * mean_slot)
        if pos + length > n or length < sr // 50:
            break
        level = 10 ** (rng.uniform(-30, -1) / 20)
        out[pos : pos + length] += level * _tone(kind, length, sr, rng) * _envelope(length, sr, rng)
        pos += length
    return out


def seed_signals(seconds: float, sr: int, seed: int) -> np.ndarray:
    """`seconds` of seed-style material at `sr`, float32 in [-1, 1]; same seed, same samples."""
    rng = np.random.default_rng(seed)
    total = int(round(seconds * sr))
    parts: list[np.ndarray] = []
    have = 0
    while have < total:
        seg = seed_segment(sr, rng, min(SEGMENT_SECONDS, (total - have) / sr))
        parts.append(seg)
        have += len(seg)
    audio = np.concatenate(parts)[:total] if parts else np.zeros(0)
    return np.clip(audio, -1.0, 1.0).astype(np.float32)
