"""f0 tracking on the 250 Hz frame grid with the SwiftF0 network (ONNX model inside its wheel)."""

from __future__ import annotations

import functools

import numpy as np
from swift_f0 import FMAX, FMIN, FRAME_PERIOD, SAMPLE_RATE, SwiftF0

from readdsp.core.errors import ReaDDSPError
from readdsp.core.features.loudness import loudness_n_frames
from readdsp.core.resample import resample

#: A frame counts as voiced when its confidence is at least this (SwiftF0's calibration).
VOICED_THRESHOLD = 0.5
#: The pitch range the network can report; `fmin`/`fmax` are clamped into it.
TRACKER_FMIN = FMIN
TRACKER_FMAX = FMAX


@functools.lru_cache(maxsize=1)
def _detector() -> SwiftF0:
    # spin=False: the ONNX pool sleeps between calls instead of busy-waiting on shared CPUs.
    return SwiftF0(spin=False)


def _mono_float(audio: np.ndarray) -> np.ndarray:
    signal = np.asarray(audio, dtype=np.float32)
    if signal.ndim == 2:
        signal = signal.mean(axis=1)
    if signal.ndim != 1:
        raise ReaDDSPError(f"f0 tracking needs mono audio ([samples] or [samples, channels]), got {signal.shape}")
    if not np.all(np.isfinite(signal)):
        raise ReaDDSPError("audio contains NaN or infinite samples")
    return signal


def _hold_between_voiced(times: np.ndarray, frame_times: np.ndarray, pitch: np.ndarray, voiced: np.ndarray):
    """f0 on `times`: log-f interpolation between voiced frames, held before the first and after the last."""
    usable = voiced & (pitch > 0)
    if not usable.any():
        return np.zeros(times.size)
    return np.exp2(np.interp(times, frame_times[usable], np.log2(pitch[usable])))


def track_f0(
    audio: np.ndarray,
    sample_rate: int,
    frame_rate: int = 250,
    fmin: float = 30.0,
    fmax: float = 2000.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate (f0_hz, confidence), both float32 [n_frames], on the grid of `a_weighted_loudness`.

    Frame `i` is at `i / frame_rate` s and `n_frames = round(len(audio) / sample_rate * frame_rate)`.
    Audio is resampled to 16 kHz (soxr) and tracked by SwiftF0 every 16 ms; the pitch is interpolated
    in log frequency onto the grid using voiced frames only (confidence >= VOICED_THRESHOLD), so f0 is
    continuous and held through unvoiced stretches (the DDSP convention); `confidence` (0..1, linearly
    interpolated) marks voicing. With no voiced frame at all, f0 is 0 throughout.
    The effective range is [max(fmin, 46.875), min(fmax, 2093.75)] Hz.
    """
    signal = _mono_float(audio)
    if sample_rate <= 0 or frame_rate <= 0:
        raise ReaDDSPError(f"sample_rate ({sample_rate}) and frame_rate ({frame_rate}) must be positive")
    low, high = max(float(fmin), TRACKER_FMIN), min(float(fmax), TRACKER_FMAX)
    if not low < high:
        raise ReaDDSPError(f"f0 range {fmin}..{fmax} Hz lies outside what the tracker covers ({FMIN}..{FMAX} Hz)")
    n_frames = loudness_n_frames(signal.size, sample_rate, frame_rate)
    if n_frames == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    if sample_rate != SAMPLE_RATE:
        signal = resample(signal, sample_rate, SAMPLE_RATE)
    if signal.size == 0:
        signal = np.zeros(1, np.float32)
    result = _detector().detect(signal, SAMPLE_RATE, fmin=low, fmax=high)
    frame_times = np.arange(result.pitch_hz.size) * FRAME_PERIOD
    times = np.arange(n_frames) / frame_rate
    voiced = result.confidence >= VOICED_THRESHOLD
    f0_hz = _hold_between_voiced(times, frame_times, result.pitch_hz, voiced)
    confidence = np.interp(times, frame_times, result.confidence)
    return f0_hz.astype(np.float32), confidence.astype(np.float32)
