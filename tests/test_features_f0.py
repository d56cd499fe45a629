"""f0 tracking on the 250 Hz grid: synthetic harmonic tones, a glide, voicing and gaps, one real oboe note."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from readdsp.core.errors import ReaDDSPError
from readdsp.core.features import a_weighted_loudness, track_f0


def shared_data_dir() -> Path:
    env = os.environ.get("READDSP_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "../shared/data"


def harmonic_tone(phase: np.ndarray, sample_rate: int, top_freq: np.ndarray | float) -> np.ndarray:
    """Sawtooth-like tone (harmonics 1/k) on a phase track, band-limited below Nyquist."""
    tone = np.zeros_like(phase)
    for k in range(1, 12):
        tone += np.where(np.asarray(top_freq) * k < sample_rate / 2.2, 0.3 / k * np.sin(k * phase), 0.0)
    return tone


def steady_tone(freq: float, sample_rate: int, seconds: float = 0.6) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return harmonic_tone(2 * np.pi * freq * t, sample_rate, freq)


def cents(f0: np.ndarray, reference: np.ndarray | float) -> np.ndarray:
    return 1200.0 * np.log2(f0 / reference)


@pytest.mark.parametrize("sample_rate", [16000, 44100, 48000])
@pytest.mark.parametrize("freq", [50.0, 98.0, 261.6, 440.0, 987.8, 1500.0])
def test_steady_harmonic_tones_within_20_cents(freq, sample_rate):
    f0, confidence = track_f0(steady_tone(freq, sample_rate), sample_rate)
    assert f0.size == confidence.size == 150
    middle = slice(25, -25)
    assert np.percentile(np.abs(cents(f0[middle], freq)), 95) < 20.0
    assert np.all(confidence[middle] > 0.5)


def test_glide_is_followed_without_lag():
    sample_rate = 16000
    t = np.arange(2 * sample_rate) / sample_rate
    freq = 220.0 * 2.0**t  # one octave per second
    audio = harmonic_tone(2 * np.pi * np.cumsum(freq) / sample_rate, sample_rate, freq)
    f0, _ = track_f0(audio, sample_rate)
    truth = 220.0 * 2.0 ** (np.arange(f0.size) / 250)
    error = cents(f0[25:-25], truth[25:-25])
    assert np.max(np.abs(error)) < 20.0
    assert abs(np.mean(error)) < 5.0  # a 16 ms misalignment would read as 16 cents of bias


def test_unvoiced_gap_is_bridged_in_log_frequency():
    sample_rate = 16000
    gap = np.zeros(int(0.4 * sample_rate))
    audio = np.concatenate([steady_tone(200.0, sample_rate), gap, steady_tone(400.0, sample_rate)])
    f0, confidence = track_f0(audio, sample_rate)
    assert f0.size == loudness_frames(audio, sample_rate)
    gap_frames = slice(150 + 10, 250 - 10)
    assert np.all(confidence[gap_frames] < 0.5)
    assert np.all(confidence[20:130] > 0.5) and np.all(confidence[270:380] > 0.5)
    bridge = np.log2(f0[gap_frames])
    assert np.all(np.diff(bridge) >= -1e-6)  # continuous and monotone from 200 Hz up to 400 Hz
    assert 200.0 * 0.98 < f0[gap_frames].min() and f0[gap_frames].max() < 400.0 * 1.02
    assert np.all(np.abs(cents(f0[20:130], 200.0)) < 20.0)


def loudness_frames(audio: np.ndarray, sample_rate: int) -> int:
    return a_weighted_loudness(audio, sample_rate).size


def test_stereo_is_mixed_and_bad_range_is_rejected():
    tone = steady_tone(330.0, 48000)
    f0, _ = track_f0(np.stack([tone, tone], axis=1), 48000)
    assert np.median(np.abs(cents(f0[25:-25], 330.0))) < 10.0
    with pytest.raises(ReaDDSPError, match="range"):
        track_f0(tone, 48000, fmin=3000.0, fmax=4000.0)


def test_real_oboe_note():
    path = shared_data_dir() / "philharmonia" / "oboe" / "oboe_A4_1_forte_normal.mp3"
    if not path.is_file():
        pytest.skip(f"shared data absent: {path} (set READDSP_SHARED_DATA)")
    audio, sample_rate = sf.read(path, dtype="float32")
    f0, confidence = track_f0(audio, sample_rate)
    loudness = a_weighted_loudness(audio, sample_rate)
    sustained = loudness > loudness.max() - 20.0
    assert sustained.sum() > 50
    assert np.median(np.abs(cents(f0[sustained], 440.0))) < 50.0
    assert np.mean(confidence[sustained] > 0.5) > 0.9


def test_silence_is_unvoiced_with_zero_f0():
    f0, confidence = track_f0(np.zeros(24000), 48000)
    assert f0.size == 125
    assert np.all(f0 == 0.0) and np.all(confidence < 0.5)
