"""Harmonic oscillator bank (DDSP `Harmonic`): control scaling, differentiable torch and fast numba renders.

Signal model, shared by both render paths (frame j sits on sample j*hop, hop = sample_rate / frame_rate):
  f(n)   = linear interpolation of f0 between frames (float64),
  phi(n) = sum_{m<n} 2*pi*f(m)/sample_rate, kept in float64 and wrapped mod 2*pi,
  a_k(n) = amplitude * harmonic_distribution_k, interpolated "window" (Hann OLA, ddsp default) or "linear",
  y(n)   = sum_k a_k(n) * [k*f(n) < sample_rate/2] * sin(k*phi(n)).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from readdsp.core.kernels.harmonic_bank import render_harmonics
from readdsp.core.kernels.warmup import wait_for_kernels

from .ops import INTERPOLATION_METHODS, exp_sigmoid, frame_positions, interpolation_weight


def _as_frames(x: torch.Tensor) -> torch.Tensor:
    """[B, T, 1] or [B, T] -> [B, T]."""
    return x[..., 0] if x.dim() == 3 else x


class HarmonicSynth(nn.Module):
    """Bank of `n_harmonics` sinusoids at integer multiples of f0."""

    def __init__(
        self,
        sample_rate: float,
        n_harmonics: int = 60,
        frame_rate: float = 250.0,
        amplitude_method: str = "window",
    ):
        super().__init__()
        if amplitude_method not in INTERPOLATION_METHODS:
            raise ValueError(f"amplitude_method must be one of {INTERPOLATION_METHODS}")
        self.sample_rate = float(sample_rate)
        self.n_harmonics = int(n_harmonics)
        self.frame_rate = float(frame_rate)
        self.hop = self.sample_rate / self.frame_rate
        self.amplitude_method = amplitude_method

    def n_samples_for(self, n_frames: int) -> int:
        return int(round(n_frames * self.hop))

    def harmonic_numbers(self, device: torch.device | None = None) -> torch.Tensor:
        return torch.arange(1, self.n_harmonics + 1, dtype=torch.float32, device=device)

    def normalize_below_nyquist(self, distribution: torch.Tensor, f0_hz: torch.Tensor) -> torch.Tensor:
        """Zero harmonics with k*f0 >= Nyquist (per frame), normalise to sum 1 (all-zero frames stay 0)."""
        k = self.harmonic_numbers(distribution.device)
        audible = (f0_hz[..., None] * k < self.sample_rate / 2).to(distribution.dtype)
        distribution = distribution * audible
        return distribution / torch.clamp(distribution.sum(-1, keepdim=True), min=1e-7)

    def get_controls(
        self, amplitude_raw: torch.Tensor, harmonic_distribution_raw: torch.Tensor, f0_hz: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Raw network outputs -> {"amplitude" [B,T], "harmonic_distribution" [B,T,K], "f0_hz" [B,T]}."""
        f0_hz = _as_frames(f0_hz)
        amplitude = exp_sigmoid(_as_frames(amplitude_raw))
        distribution = self.normalize_below_nyquist(exp_sigmoid(harmonic_distribution_raw), f0_hz)
        return {"amplitude": amplitude, "harmonic_distribution": distribution, "f0_hz": f0_hz}

    def get_signal(
        self,
        amplitude: torch.Tensor,
        harmonic_distribution: torch.Tensor,
        f0_hz: torch.Tensor,
        n_samples: int | None = None,
        fast: bool | None = None,
    ) -> torch.Tensor:
        """Render [B, n_samples] audio. `fast=None` picks the numba path whenever no gradient is needed."""
        amplitude, f0_hz = _as_frames(amplitude), _as_frames(f0_hz)
        n_samples = self.n_samples_for(f0_hz.shape[1]) if n_samples is None else int(n_samples)
        if fast is None:
            fast = not (
                torch.is_grad_enabled() and any(x.requires_grad for x in (amplitude, harmonic_distribution, f0_hz))
            )
        if fast:
            return self._render_fast(amplitude, harmonic_distribution, f0_hz, n_samples)
        return self._render_differentiable(amplitude[..., None] * harmonic_distribution, f0_hz, n_samples)

    def _render_fast(
        self,
        amplitude: torch.Tensor,
        harmonic_distribution: torch.Tensor,
        f0_hz: torch.Tensor,
        n_samples: int,
    ) -> torch.Tensor:
        # numpy, not torch, for this small product: no intra-op thread hand-off (10x faster when busy)
        distribution = harmonic_distribution.detach().float().cpu().numpy()
        amps = amplitude.detach().float().cpu().numpy()[..., None] * distribution
        f0 = f0_hz.detach().double().cpu().numpy()
        window = self.amplitude_method == "window"
        out = np.empty((f0.shape[0], n_samples), dtype=np.float32)
        wait_for_kernels("harmonic_bank")
        for b in range(f0.shape[0]):
            render_harmonics(f0[b], amps[b], n_samples, self.hop, self.sample_rate, window, out=out[b])
        return torch.from_numpy(out).to(f0_hz.device)

    def _render_differentiable(
        self, harmonic_amplitudes: torch.Tensor, f0_hz: torch.Tensor, n_samples: int
    ) -> torch.Tensor:
        n_frames = f0_hz.shape[1]
        frame, next_frame, fraction = frame_positions(n_samples, self.hop, n_frames, f0_hz.device)
        f0 = f0_hz.double()
        freq = f0[:, frame] * (1.0 - fraction) + f0[:, next_frame] * fraction  # [B, N] float64
        omega = freq * (2.0 * math.pi / self.sample_rate)
        phase = torch.cumsum(torch.nn.functional.pad(omega[:, :-1], (1, 0)), dim=1)
        phase = (phase - 2.0 * math.pi * torch.floor(phase / (2.0 * math.pi))).float()
        # Harmonics above Nyquist for every sample of the batch are silent: leave them out of the [B, N, K] tensors.
        lowest = float(freq.min().clamp(min=1e-3))
        n_used = max(1, min(self.n_harmonics, math.ceil(self.sample_rate / 2 / lowest)))
        k = self.harmonic_numbers(f0_hz.device)[:n_used]
        amps = harmonic_amplitudes[..., :n_used].float()
        with torch.set_grad_enabled(torch.is_grad_enabled() and f0_hz.requires_grad):
            audible = freq[..., None] * k.double() < self.sample_rate / 2  # per-sample Nyquist mask
            sines = torch.where(audible, torch.sin(phase[..., None] * k), 0.0)  # [B, N, K]
        weight = interpolation_weight(fraction, self.amplitude_method).float()
        hop = int(self.hop)
        if hop == self.hop and n_samples == n_frames * hop:
            # Samples grouped by frame: one batched product with [this frame's, next frame's] amplitudes instead of
            # gathering a [B, N, K] amplitude tensor twice (the training step's largest cost at 48 kHz).
            batch = amps.shape[0]
            pair = torch.stack([amps, amps[:, next_frame[::hop]]], dim=-1)  # [B, T, K, 2]
            both = torch.matmul(sines.reshape(batch, n_frames, hop, n_used), pair)  # [B, T, hop, 2]
            w = weight.reshape(n_frames, hop)
            return (both[..., 0] * (1.0 - w) + both[..., 1] * w).reshape(batch, n_samples)
        w = weight[None, :, None]
        amps_n = amps[:, frame] * (1.0 - w) + amps[:, next_frame] * w
        return (amps_n * sines).sum(-1)
