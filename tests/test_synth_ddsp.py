"""DDSPSynth end to end: ops, controls round trip, fast == differentiable, seeding, gradients via the loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from readdsp.core.losses import MultiScaleSpectralLoss
from readdsp.core.synth import (
    DDSPSynth,
    SynthControls,
    amplitude_to_db,
    exp_sigmoid,
    safe_log,
    upsample_frames,
)


def test_exp_sigmoid_values() -> None:
    x = torch.tensor([-100.0, 0.0, 100.0, -5.0])
    y = exp_sigmoid(x)
    assert y[0].item() == pytest.approx(1e-7, rel=1e-3)
    assert y[1].item() == pytest.approx(2.0 * 0.5 ** math.log(10.0) + 1e-7, rel=1e-6)
    assert y[2].item() == pytest.approx(2.0, rel=1e-6)
    assert y[3].item() == pytest.approx(2.0 * (1 / (1 + math.exp(5.0))) ** math.log(10.0) + 1e-7, rel=1e-5)
    assert exp_sigmoid(torch.tensor(0.0), exponent=2.0, max_value=1.0, threshold=0.0).item() == pytest.approx(
        0.5 ** math.log(2.0)
    )


def test_db_and_safe_log() -> None:
    db = amplitude_to_db(torch.tensor([1.0, 0.1, 0.0, 1e-9]))
    assert db.tolist() == pytest.approx([0.0, -20.0, -80.0, -80.0], abs=1e-4)
    assert safe_log(torch.tensor([0.0, math.e])).tolist() == pytest.approx([math.log(1e-5), 1.0], rel=1e-6)


def test_linear_upsampling_interpolates_between_frame_centres() -> None:
    frames = torch.tensor([[[0.0], [1.0], [3.0]]])
    out = upsample_frames(frames, 12, method="linear")[0, :, 0]
    assert out.tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3, 3, 3])


def test_window_upsampling_equals_hann_overlap_add() -> None:
    hop, n_frames = 8, 6
    frames = torch.rand(1, n_frames, 2, generator=torch.Generator().manual_seed(0))
    out = upsample_frames(frames, hop * n_frames, method="window")[0].numpy()
    # ddsp: frames times a periodic Hann of 2*hop, overlap-added at hop, frame j centred on sample j*hop
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(2 * hop) / (2 * hop))
    ola = np.zeros((hop * (n_frames + 1), 2))
    for j in range(n_frames):
        ola[j * hop : j * hop + 2 * hop] += window[:, None] * frames[0, j].numpy()
    interior = slice(0, hop * (n_frames - 1))  # after the last centre ddsp fades out, we hold
    assert np.allclose(out[interior], ola[hop:][interior], atol=1e-6)


def _random_controls(synth: DDSPSynth, n_frames: int, seed: int) -> SynthControls:
    generator = torch.Generator().manual_seed(seed)
    t = torch.arange(n_frames) / 250.0
    f0 = (200.0 + 200.0 * t + 10.0 * torch.sin(2 * math.pi * 6.0 * t))[None, :, None]
    return synth.get_controls(
        torch.randn(1, n_frames, 1, generator=generator),
        torch.randn(1, n_frames, 60, generator=generator),
        torch.randn(1, n_frames, 65, generator=generator),
        f0,
    )


def test_controls_round_trip_and_validation() -> None:
    synth = DDSPSynth(16000)
    controls = _random_controls(synth, 10, 0)
    assert controls.f0_hz.shape == (1, 10) and controls.amplitude.shape == (1, 10)
    assert controls.harmonic_distribution.shape == (1, 10, 60) and controls.noise_magnitudes.shape == (
        1,
        10,
        65,
    )
    again = SynthControls.from_dict(controls.to_dict())
    assert all(torch.equal(a, b) for a, b in zip(controls.to_dict().values(), again.to_dict().values(), strict=True))
    with pytest.raises(KeyError):
        SynthControls.from_dict({"f0_hz": controls.f0_hz})


@pytest.mark.parametrize("sample_rate", [22050, 48000])
def test_fast_render_matches_differentiable_render(sample_rate: int) -> None:
    synth = DDSPSynth(sample_rate, reverb_length_s=0.5)
    synth.eval()
    controls = _random_controls(synth, 400, 1)
    with torch.no_grad():
        fast = synth.get_signal(controls, generator=torch.Generator().manual_seed(3), fast=True)
        slow = synth.get_signal(controls, generator=torch.Generator().manual_seed(3), fast=False)
    assert fast.shape == (1, round(400 * sample_rate / 250))
    error_db = 20 * math.log10((fast - slow).abs().max().item() / slow.abs().max().item())
    assert error_db < -60.0


def test_seeded_render_is_deterministic() -> None:
    synth = DDSPSynth(16000)
    controls = _random_controls(synth, 200, 2)
    first = synth.get_signal(controls, generator=torch.Generator().manual_seed(11))
    second = synth.get_signal(controls, generator=torch.Generator().manual_seed(11))
    third = synth.get_signal(controls, generator=torch.Generator().manual_seed(12))
    assert torch.equal(first, second)
    assert (first - third).abs().max() > 1e-4


def test_gradients_flow_through_the_spectral_loss() -> None:
    synth = DDSPSynth(16000)
    n_frames = 100
    target = synth.get_signal(_random_controls(synth, n_frames, 4), generator=torch.Generator().manual_seed(0))
    amplitude = torch.zeros(1, n_frames, 1, requires_grad=True)
    distribution = torch.zeros(1, n_frames, 60, requires_grad=True)
    noise = torch.zeros(1, n_frames, 65, requires_grad=True)
    f0 = torch.full((1, n_frames, 1), 250.0, requires_grad=True)
    controls = synth.get_controls(amplitude, distribution, noise, f0)
    audio = synth.get_signal(controls, generator=torch.Generator().manual_seed(1))
    MultiScaleSpectralLoss()(target, audio).backward()
    for tensor in (amplitude, distribution, noise, f0):
        assert torch.isfinite(tensor.grad).all() and tensor.grad.abs().sum() > 0


def test_fitting_amplitude_and_noise_reduces_the_loss() -> None:
    synth = DDSPSynth(16000)
    n_frames = 25
    f0 = torch.full((1, n_frames, 1), 330.0)
    true_controls = synth.get_controls(
        torch.full((1, n_frames, 1), 1.0),
        torch.zeros(1, n_frames, 60),
        torch.full((1, n_frames, 65), 2.0),
        f0,
    )
    target = synth.get_signal(true_controls, generator=torch.Generator().manual_seed(0))
    amplitude = torch.full((1, n_frames, 1), -3.0, requires_grad=True)
    noise = torch.full((1, n_frames, 65), -3.0, requires_grad=True)
    optimizer = torch.optim.Adam([amplitude, noise], lr=0.1)
    loss_fn = MultiScaleSpectralLoss()
    losses = []
    for _ in range(12):
        controls = synth.get_controls(amplitude, torch.zeros(1, n_frames, 60), noise, f0)
        loss = loss_fn(target, synth.get_signal(controls, generator=torch.Generator().manual_seed(0)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]
    assert amplitude.mean().item() > -2.5  # moved towards the target's raw amplitude of 1.0
