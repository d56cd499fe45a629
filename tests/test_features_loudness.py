"""A-weighted loudness: DDSP recipe, A-weighting, frame grid, floor, sample-rate independence, torch twin."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch

from readdsp.core.errors import ReaDDSPError
from readdsp.core.features import a_weighted_loudness, a_weighted_loudness_torch, loudness_n_frames


def sine(freq: float, sample_rate: int, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    return amplitude * np.sin(2 * np.pi * freq * t)


def ddsp_reference_16k(audio: np.ndarray) -> np.ndarray:
    """DDSP v3 compute_loudness (numpy path) at 16 kHz, n_fft 512, via librosa's STFT."""
    padded = np.pad(audio, (256, 256))
    spectrum = librosa.stft(padded, n_fft=512, hop_length=64, center=False).T
    with np.errstate(divide="ignore"):
        weighting = 10 ** (librosa.A_weighting(librosa.fft_frequencies(sr=16000, n_fft=512)) / 10)
    power = (np.abs(spectrum) ** 2 * weighting).mean(axis=-1)
    return np.maximum(10 * np.log10(np.maximum(power, 1e-8)), -80.0)


def test_matches_ddsp_recipe_at_16k():
    rng = np.random.default_rng(0)
    audio = sine(440, 16000, 2.0) * np.linspace(0, 1, 32000) + 0.01 * rng.standard_normal(32000)
    ours = a_weighted_loudness(audio, 16000)
    reference = ddsp_reference_16k(audio)
    assert ours.size == 500 and reference.size == 501  # DDSP's extra frame sits on the final sample boundary
    np.testing.assert_allclose(ours, reference[:500], atol=1e-3)


def test_a_weighting_separates_1khz_from_100hz_sine():
    expected = float(librosa.A_weighting(1000.0) - librosa.A_weighting(100.0))  # about 19.1 dB
    loud_1k = a_weighted_loudness(sine(1000, 16000), 16000)[50:-50].mean()
    loud_100 = a_weighted_loudness(sine(100, 16000), 16000)[50:-50].mean()
    assert 18.5 < expected < 19.5
    # 0.5 dB: at 100 Hz the Hann main lobe spans bins where the A-weighting curve is steep.
    assert loud_1k - loud_100 == pytest.approx(expected, abs=0.5)


def test_doubling_amplitude_adds_six_db():
    quiet = a_weighted_loudness(sine(500, 16000, amplitude=0.1), 16000)[50:-50].mean()
    loud = a_weighted_loudness(sine(500, 16000, amplitude=0.2), 16000)[50:-50].mean()
    assert loud - quiet == pytest.approx(20 * np.log10(2), abs=0.01)


@pytest.mark.parametrize("sample_rate", [44100, 48000])
def test_same_loudness_at_other_sample_rates(sample_rate):
    at_16k = a_weighted_loudness(sine(700, 16000), 16000)[50:-50]
    at_rate = a_weighted_loudness(sine(700, sample_rate), sample_rate)[50:-50]
    np.testing.assert_allclose(at_rate, at_16k, atol=0.1)


@pytest.mark.parametrize(
    ("n_samples", "sample_rate", "expected"),
    [
        (16000, 16000, 250),
        (64 * 37, 16000, 37),
        (44100, 44100, 250),
        (44100 * 3 + 100, 44100, 751),
        (100, 48000, 1),
    ],
)
def test_frame_count(n_samples, sample_rate, expected):
    assert loudness_n_frames(n_samples, sample_rate) == expected
    assert a_weighted_loudness(np.zeros(n_samples), sample_rate).size == expected


def test_silence_sits_on_the_floor_and_onset_is_at_the_right_frame():
    assert np.all(a_weighted_loudness(np.zeros(8000), 16000) == -80.0)
    audio = np.concatenate([np.zeros(8000), sine(1000, 16000, 0.5)])  # tone starts at 0.5 s = frame 125
    loudness = a_weighted_loudness(audio, 16000)
    assert np.all(loudness[:120] == -80.0)
    assert np.all(loudness[131:] > 0.0)
    assert loudness[125] == pytest.approx(loudness[200] - 3.0, abs=1.0)  # half the window filled: about -3 dB


def test_torch_twin_matches_and_is_differentiable():
    audio = sine(300, 48000, 0.5) + sine(3000, 48000, 0.5, 0.1)
    tensor = torch.tensor(np.stack([audio, 0.5 * audio]), requires_grad=True)
    loudness = a_weighted_loudness_torch(tensor, 48000)
    np.testing.assert_allclose(loudness[0].detach().numpy(), a_weighted_loudness(audio, 48000), atol=1e-3)
    assert (loudness[0] - loudness[1]).detach().numpy()[20:-20] == pytest.approx(20 * np.log10(2), abs=0.01)
    loudness.mean().backward()
    assert torch.isfinite(tensor.grad).all() and tensor.grad.abs().sum() > 0


def test_rejects_non_mono_input():
    with pytest.raises(ReaDDSPError, match="mono"):
        a_weighted_loudness(np.zeros((100, 2)), 16000)
