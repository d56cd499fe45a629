"""Filtered noise band energies and determinism; reverb decay rule, dry path and per-instrument mixing."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
import torch

from readdsp.core.synth import FilteredNoise, Reverb, fft_convolve


def _psd(audio: torch.Tensor, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    return scipy.signal.welch(audio[0].numpy(), fs=sample_rate, nperseg=1024)


@pytest.mark.parametrize("sample_rate", [16000, 44100])
def test_energy_concentrates_in_the_only_active_band(sample_rate: int) -> None:
    noise = FilteredNoise(sample_rate)
    magnitudes = torch.zeros(1, 500, 65)
    band = 20
    magnitudes[..., band] = 1.0
    audio = noise.get_signal(magnitudes, generator=torch.Generator().manual_seed(0))
    freqs, psd = _psd(audio, sample_rate)
    band_width = sample_rate / 2 / 64
    inside = np.abs(freqs - band * band_width) <= 3 * band_width
    assert psd[inside].sum() / psd.sum() > 0.97
    assert audio.abs().max() > 0.01


def test_band_levels_follow_requested_magnitudes() -> None:
    sample_rate = 16000
    noise = FilteredNoise(sample_rate)
    magnitudes = torch.full((1, 1000, 65), 0.1)
    magnitudes[..., :33] = 1.0  # 0..4 kHz ten times louder (20 dB) than 4..8 kHz
    audio = noise.get_signal(magnitudes, generator=torch.Generator().manual_seed(1))
    freqs, psd = _psd(audio, sample_rate)
    low = psd[(freqs > 500) & (freqs < 3500)].mean()
    high = psd[(freqs > 4500) & (freqs < 7500)].mean()
    assert 10 * math.log10(low / high) == pytest.approx(20.0, abs=1.0)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("sample_rate", [16000, 22050, 48000])
def test_flat_unit_magnitudes_pass_the_noise_unchanged(sample_rate: int, fast: bool) -> None:
    noise = FilteredNoise(sample_rate)
    audio = noise.get_signal(torch.ones(1, 300, 65), generator=torch.Generator().manual_seed(5), fast=fast)
    n_blocks = math.ceil((audio.shape[1] + noise.delay) / noise.block)
    raw = torch.zeros(1, n_blocks, noise.fft_size)
    raw[..., : noise.block].uniform_(-1.0, 1.0, generator=torch.Generator().manual_seed(5))
    raw = raw[..., : noise.block].reshape(1, -1)
    assert torch.allclose(audio, raw[:, : audio.shape[1]], atol=1e-5)
    assert audio.shape[1] == round(300 * sample_rate / 250)


def test_noise_is_deterministic_per_seed() -> None:
    magnitudes = torch.rand(2, 400, 65, generator=torch.Generator().manual_seed(0))
    noise = FilteredNoise(48000)
    first = noise.get_signal(magnitudes, generator=torch.Generator().manual_seed(7))
    again = noise.get_signal(magnitudes, generator=torch.Generator().manual_seed(7))
    other = noise.get_signal(magnitudes, generator=torch.Generator().manual_seed(8))
    assert torch.equal(first, again)
    assert (first - other).abs().mean() > 0.01


@pytest.mark.parametrize("fast", [True, False])
def test_pieced_overlap_add_is_seamless(fast: bool) -> None:
    """Pieced processing (7 blocks per piece, FFT batches of 3) equals direct per-block convolution."""
    magnitudes = torch.rand(1, 200, 65, generator=torch.Generator().manual_seed(0))
    one_piece = FilteredNoise(16000, blocks_per_piece=10_000)
    n_blocks = math.ceil((one_piece.n_samples_for(200) + one_piece.delay) / one_piece.block)
    audio = FilteredNoise(16000, blocks_per_piece=7, fast_blocks=3).get_signal(
        magnitudes, generator=torch.Generator().manual_seed(2), fast=fast
    )
    generator = torch.Generator().manual_seed(2)
    pieces = []
    for first in range(0, n_blocks, 7):
        piece = torch.zeros(1, min(7, n_blocks - first), one_piece.fft_size)
        piece[..., : one_piece.block].uniform_(-1.0, 1.0, generator=generator)
        pieces.append(piece[..., : one_piece.block])
    blocks = torch.cat(pieces, dim=1)[0]
    ir = one_piece.impulse_responses(one_piece._block_magnitudes(magnitudes, 0, n_blocks))[0]
    expected = np.zeros(n_blocks * one_piece.block + one_piece.ir_size)
    for i in range(n_blocks):
        start = i * one_piece.block
        expected[start : start + one_piece.block + one_piece.ir_size - 1] += np.convolve(blocks[i], ir[i])
    expected = expected[one_piece.delay : one_piece.delay + audio.shape[1]]
    assert np.max(np.abs(audio[0].numpy() - expected)) < 1e-5


@pytest.mark.parametrize("sample_rate", [16000, 44100, 48000])
def test_fast_noise_equals_differentiable_noise(sample_rate: int) -> None:
    """Same seeded noise and filter on both paths: batch of 2, FFT batches not dividing the pieces, and a
    render longer than the frames (last frame held)."""
    magnitudes = torch.rand(2, 120, 65, generator=torch.Generator().manual_seed(3))
    noise = FilteredNoise(sample_rate, blocks_per_piece=50, fast_blocks=7)
    n_samples = noise.n_samples_for(130)
    fast = noise.get_signal(magnitudes, n_samples, torch.Generator().manual_seed(4), fast=True)
    slow = noise.get_signal(magnitudes, n_samples, torch.Generator().manual_seed(4), fast=False)
    assert fast.shape == slow.shape == (2, n_samples)
    assert (fast - slow).abs().max() < 1e-5 * slow.abs().max()
    assert slow[:, -noise.block :].abs().mean() > 0.05  # the held tail is not silent
    assert not fast.requires_grad


def test_noise_gradient_is_finite_and_nonzero() -> None:
    noise = FilteredNoise(16000)
    raw = torch.zeros(1, 50, 65, requires_grad=True)
    audio = noise.get_signal(noise.get_controls(raw), generator=torch.Generator().manual_seed(0))
    (audio**2).mean().backward()
    assert torch.isfinite(raw.grad).all() and raw.grad.abs().sum() > 0


def _reverb_with_constant_ir(value: float) -> Reverb:
    reverb = Reverb(16000, length_s=3.0, n_instruments=2)
    with torch.no_grad():
        reverb.impulse_responses.weight[1] = value
    return reverb


def test_reverb_decay_rule_at_inference_and_flat_ir_in_training() -> None:
    reverb = _reverb_with_constant_ir(0.01)
    impulse = torch.zeros(1, 50_000)
    impulse[0, 0] = 1.0
    reverb.eval()
    with torch.no_grad():
        out = reverb(impulse, 1)[0]
    assert out[0].item() == pytest.approx(1.0, abs=1e-6)  # dry intact, first IR tap masked
    assert out[1:16000].numpy() == pytest.approx(0.01, abs=1e-6)  # flat first second
    assert out[16000].item() == pytest.approx(0.01, abs=1e-6)
    assert out[32000].item() == pytest.approx(0.01 * math.exp(-4 * 16000 / 31999), rel=1e-3)
    assert out[47999].item() == pytest.approx(0.01 * math.exp(-4.0), rel=1e-3)
    assert out[48000:].abs().max() < 1e-6  # IR is 3 s long
    reverb.train()
    with torch.no_grad():
        trained = reverb(impulse, 1)[0]
        forced = reverb(impulse, 1, decay=True)[0]
    assert trained[1:48000].numpy() == pytest.approx(0.01, abs=1e-6)
    assert forced[47999].item() == pytest.approx(0.01 * math.exp(-4.0), rel=1e-3)


def test_fresh_reverb_keeps_the_dry_signal_and_tail_is_optional() -> None:
    reverb = Reverb(16000, length_s=1.0, n_instruments=3)
    audio = torch.randn(2, 8000, generator=torch.Generator().manual_seed(0))
    out = reverb(audio, torch.tensor([0, 2]))
    assert (out - audio).abs().max() < 1e-3  # IR initialised ~N(0, 1e-6)
    assert reverb(audio, 0, keep_tail=True).shape == (2, 8000 + 16000 - 1)


def test_mix_by_instrument_equals_reverberating_each_voice() -> None:
    reverb = Reverb(16000, length_s=1.0, n_instruments=2)
    with torch.no_grad():
        reverb.impulse_responses.weight.normal_(0.0, 0.01, generator=torch.Generator().manual_seed(0))
    voices = torch.randn(3, 4000, generator=torch.Generator().manual_seed(1))
    ids = torch.tensor([1, 0, 1])
    mixed = reverb.mix_by_instrument(voices, ids)
    separate = reverb(voices, ids).sum(0)
    assert torch.allclose(mixed, separate, atol=1e-5)


def test_blockwise_convolution_of_long_signals_matches_direct() -> None:
    audio = torch.randn(1, 20_000, generator=torch.Generator().manual_seed(0))
    ir = torch.randn(3000, generator=torch.Generator().manual_seed(1))
    direct = np.convolve(audio[0].numpy(), ir.numpy())
    blockwise = fft_convolve(audio, ir, keep_tail=True, max_single_fft=4096)[0].numpy()
    assert np.max(np.abs(blockwise - direct)) < 1e-3
