"""Multi-scale spectral loss: zero on equal audio, matches an independent numpy STFT, differentiable."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from readdsp.core.losses import MultiScaleSpectralLoss


def _numpy_single_scale(target: np.ndarray, value: np.ndarray, size: int) -> float:
    hop = size // 4

    def magnitude(audio: np.ndarray) -> np.ndarray:
        n_frames = -(-len(audio) // hop)
        padded = np.concatenate([audio, np.zeros((n_frames - 1) * hop + size - len(audio))])
        window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size)
        frames = np.stack([padded[i * hop : i * hop + size] * window for i in range(n_frames)])
        return np.abs(np.fft.rfft(frames, axis=-1))

    t, v = magnitude(target), magnitude(value)
    return float(np.mean(np.abs(t - v)) + np.mean(np.abs(np.log(np.maximum(t, 1e-5)) - np.log(np.maximum(v, 1e-5)))))


def test_loss_matches_an_independent_numpy_computation() -> None:
    generator = torch.Generator().manual_seed(0)
    target = torch.randn(1, 3001, generator=generator)
    value = 0.5 * target + 0.1 * torch.randn(1, 3001, generator=generator)
    for size in (256, 64):
        loss = MultiScaleSpectralLoss(fft_sizes=(size,))(target, value).item()
        assert loss == pytest.approx(_numpy_single_scale(target[0].numpy(), value[0].numpy(), size), rel=1e-4)
    total = MultiScaleSpectralLoss(fft_sizes=(256, 64))(target, value).item()
    expected = sum(_numpy_single_scale(target[0].numpy(), value[0].numpy(), s) for s in (256, 64))
    assert total == pytest.approx(expected, rel=1e-4)


def test_loss_is_zero_for_equal_audio_and_grows_with_difference() -> None:
    audio = torch.randn(2, 16000, generator=torch.Generator().manual_seed(1))
    loss = MultiScaleSpectralLoss()
    assert loss(audio, audio).item() == 0.0
    assert 0 < loss(audio, 0.9 * audio).item() < loss(audio, 0.5 * audio).item()


def test_weights_select_terms_and_gradient_is_finite() -> None:
    target = torch.randn(1, 8000, generator=torch.Generator().manual_seed(2))
    value = torch.zeros(1, 8000, requires_grad=True)
    mag_only = MultiScaleSpectralLoss(logmag_weight=0.0)(target, value)
    log_only = MultiScaleSpectralLoss(mag_weight=0.0)(target, value)
    both = MultiScaleSpectralLoss()(target, value)
    assert both.item() == pytest.approx(mag_only.item() + log_only.item(), rel=1e-5)
    value2 = (0.01 * torch.randn(1, 8000, generator=torch.Generator().manual_seed(3))).requires_grad_()
    MultiScaleSpectralLoss()(target, value2).backward()
    assert torch.isfinite(value2.grad).all() and value2.grad.abs().sum() > 0
