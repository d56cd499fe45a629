"""Harmonic oscillator bank: pitch, Nyquist handling, 10-minute phase precision, fast == differentiable."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from readdsp.core.synth import HarmonicSynth

SAMPLE_RATES = (16000, 22050, 44100, 48000)


def _one_hot_distribution(n_frames: int, harmonic: int, n_harmonics: int = 60) -> torch.Tensor:
    distribution = torch.zeros(1, n_frames, n_harmonics)
    distribution[..., harmonic - 1] = 1.0
    return distribution


def _peak_frequency(audio: np.ndarray, sample_rate: float) -> float:
    """Spectral peak with 8x zero padding and parabolic interpolation on log magnitude."""
    n_fft = 8 * len(audio)
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio)), n=n_fft)) + 1e-30
    peak = int(np.argmax(spectrum))
    left, centre, right = np.log(spectrum[peak - 1 : peak + 2])
    offset = 0.5 * (left - right) / (left - 2 * centre + right)
    return (peak + offset) * sample_rate / n_fft


def _cents(measured: float, expected: float) -> float:
    return 1200.0 * math.log2(measured / expected)


@pytest.mark.parametrize("sample_rate", SAMPLE_RATES)
@pytest.mark.parametrize("fast", [True, False])
def test_rendered_pitch_matches_f0_within_a_cent(sample_rate: int, fast: bool) -> None:
    synth = HarmonicSynth(sample_rate)
    n_frames = 250  # 1 s
    f0 = torch.full((1, n_frames), 443.3)
    for harmonic in (1, 3):
        audio = synth.get_signal(torch.ones(1, n_frames), _one_hot_distribution(n_frames, harmonic), f0, fast=fast)[
            0
        ].numpy()
        assert len(audio) == round(n_frames * sample_rate / 250)
        measured = _peak_frequency(audio, sample_rate)
        assert abs(_cents(measured, harmonic * 443.3)) < 1.0


@pytest.mark.parametrize("sample_rate", [22050, 48000])
def test_zero_crossings_follow_a_pitch_step(sample_rate: int) -> None:
    synth = HarmonicSynth(sample_rate)
    f0 = torch.cat([torch.full((1, 250), 220.0), torch.full((1, 250), 330.0)], dim=1)
    audio = synth.get_signal(torch.ones(1, 500), _one_hot_distribution(500, 1), f0)[0].numpy()
    for segment, expected in ((audio[: sample_rate // 2], 220.0), (audio[-sample_rate // 2 :], 330.0)):
        rising = np.flatnonzero((segment[:-1] < 0) & (segment[1:] >= 0))
        exact = rising + segment[rising] / (segment[rising] - segment[rising + 1])  # linear interpolation
        measured = (len(exact) - 1) * sample_rate / (exact[-1] - exact[0])
        assert abs(_cents(measured, expected)) < 2.0


def test_get_controls_scales_and_removes_harmonics_above_nyquist() -> None:
    synth = HarmonicSynth(16000)
    f0 = torch.tensor([[1234.0, 500.0]])
    controls = synth.get_controls(torch.zeros(1, 2, 1), torch.zeros(1, 2, 60), f0[..., None])
    distribution = controls["harmonic_distribution"]
    assert torch.allclose(distribution.sum(-1), torch.ones(1, 2))
    assert torch.all(distribution[0, 0, 6:] == 0) and torch.allclose(distribution[0, 0, :6], torch.tensor(1 / 6))
    assert torch.all(distribution[0, 1, 15:] == 0) and torch.allclose(distribution[0, 1, :15], torch.tensor(1 / 15))
    assert torch.allclose(controls["amplitude"], torch.tensor(2.0 * 0.5 ** math.log(10.0) + 1e-7))


@pytest.mark.parametrize("fast", [True, False])
def test_no_aliasing_from_harmonics_above_nyquist(fast: bool) -> None:
    sample_rate, f0_hz = 16000, 1234.0
    synth = HarmonicSynth(sample_rate)
    f0 = torch.full((1, 250), f0_hz)
    # a flat distribution over all 60 harmonics, *without* the frame-level normalisation: the per-sample mask
    # alone must keep harmonics 7..60 (>= 8 kHz) out of the signal
    audio = synth.get_signal(torch.ones(1, 250), torch.full((1, 250, 60), 1 / 60), f0, fast=fast)[0].numpy()
    spectrum = np.abs(np.fft.rfft(audio * np.blackman(len(audio)))) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / sample_rate)
    near_harmonic = np.zeros_like(freqs, dtype=bool)
    for k in range(1, 7):
        near_harmonic |= np.abs(freqs - k * f0_hz) < 10.0
    assert spectrum[~near_harmonic].sum() / spectrum.sum() < 1e-8  # below -80 dB


def test_per_sample_nyquist_mask_during_a_glide() -> None:
    sample_rate = 16000
    synth = HarmonicSynth(sample_rate)
    f0 = torch.linspace(1100.0, 1200.0, 500)[None]  # harmonic 7 crosses 8 kHz at f0 = 1142.9 Hz
    controls = synth.get_controls(torch.zeros(1, 500, 1), torch.zeros(1, 500, 60), f0)
    audio = synth.get_signal(controls["amplitude"], controls["harmonic_distribution"], f0)[0].numpy()
    late = audio[-sample_rate // 2 :]  # f0 > 1150 Hz: harmonic 7 is above Nyquist; its alias would be < 7950 Hz
    spectrum = np.abs(np.fft.rfft(late * np.blackman(len(late)))) ** 2
    freqs = np.fft.rfftfreq(len(late), 1 / sample_rate)
    alias_band = (freqs > 7500) & (freqs < 7950)  # between harmonic 6 (<= 7200 Hz) and Nyquist
    assert spectrum[alias_band].sum() / spectrum.sum() < 1e-7
    early = audio[: sample_rate // 4]  # f0 < 1125 Hz: harmonic 7 (< 7875 Hz) is present
    early_spectrum = np.abs(np.fft.rfft(early * np.blackman(len(early)))) ** 2
    early_freqs = np.fft.rfftfreq(len(early), 1 / sample_rate)
    band = (early_freqs > 7600) & (early_freqs < 7950)
    assert early_spectrum[band].sum() / early_spectrum.sum() > 0.05


@pytest.mark.parametrize("sample_rate", [44100, 48000])
def test_phase_stays_exact_after_ten_minutes(sample_rate: int) -> None:
    synth = HarmonicSynth(sample_rate)
    n_frames = 600 * 250
    audio = synth.get_signal(
        torch.ones(1, n_frames),
        _one_hot_distribution(n_frames, 1),
        torch.full((1, n_frames), 440.0),
        fast=True,
    )[0].numpy()
    assert len(audio) == 600 * sample_rate
    n = np.arange(599 * sample_rate, 600 * sample_rate, dtype=np.int64)
    expected = np.sin(2 * np.pi * ((n * 440) % sample_rate) / sample_rate)  # exact integer phase
    assert np.max(np.abs(audio[n] - expected)) < 1e-4  # ~1e-4 rad phase error at most


@pytest.mark.parametrize("sample_rate", [16000, 22050, 44100, 48000])
def test_fast_path_matches_differentiable_path(sample_rate: int) -> None:
    generator = torch.Generator().manual_seed(0)
    synth = HarmonicSynth(sample_rate)
    n_frames = 300
    t = torch.arange(n_frames) / 250.0
    f0 = (180.0 + 250.0 * t + 12.0 * torch.sin(2 * math.pi * 5.5 * t))[None]  # glide + vibrato
    f0[:, 100:110] = 0.0  # an unvoiced gap
    amplitude = torch.rand(1, n_frames, generator=generator)
    raw = torch.randn(1, n_frames, 60, generator=generator).cumsum(1) * 0.2
    distribution = synth.get_controls(amplitude[..., None], raw, f0[..., None])["harmonic_distribution"]
    for method in ("window", "linear"):
        synth.amplitude_method = method
        fast = synth.get_signal(amplitude, distribution, f0, fast=True)
        slow = synth.get_signal(amplitude, distribution, f0, fast=False)
        error_db = 20 * math.log10((fast - slow).abs().max().item() / slow.abs().max().item())
        assert error_db < -60.0


def test_gradient_reaches_f0_amplitude_and_distribution() -> None:
    synth = HarmonicSynth(16000)
    f0 = torch.full((1, 20), 300.0, requires_grad=True)
    amplitude = torch.full((1, 20), 0.5, requires_grad=True)
    distribution = torch.full((1, 20, 60), 1 / 60, requires_grad=True)
    audio = synth.get_signal(amplitude, distribution, f0)
    target = torch.sin(2 * math.pi * 310.0 * torch.arange(audio.shape[1]) / 16000)
    ((audio - target) ** 2).mean().backward()
    for tensor in (f0, amplitude, distribution):
        assert torch.isfinite(tensor.grad).all() and tensor.grad.abs().sum() > 0
