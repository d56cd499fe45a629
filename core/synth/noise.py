"""Filtered noise (DDSP `FilteredNoise`): uniform noise shaped per frame by a linear-phase FIR from band magnitudes.

Each frame's `n_bands` magnitudes (linearly spaced 0..Nyquist) -> zero-phase irfft -> Hann window -> causal FIR,
applied to a hop-sized block of uniform noise in [-1, 1] by FFT convolution; blocks are overlap-added with a
stride-aligned sum of reshaped slices (FFT size q*hop, no `F.fold`), and the FIR's group delay is cropped.
Work is done in pieces of `blocks_per_piece` blocks, so memory is bounded for any length and the noise drawn from
the generator is the same whether or not gradients are tracked.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .ops import exp_sigmoid


def _hann(length: int, device: torch.device | None = None) -> torch.Tensor:
    return torch.hann_window(length, periodic=True, dtype=torch.float32, device=device)


class FilteredNoise(nn.Module):
    """Time-varying filtered uniform noise, one FIR per frame."""

    def __init__(
        self,
        sample_rate: float,
        n_bands: int = 65,
        frame_rate: float = 250.0,
        window_size: int = 257,
        initial_bias: float = -5.0,
        blocks_per_piece: int = 4096,
    ):
        super().__init__()
        if n_bands < 2:
            raise ValueError("n_bands must be at least 2")
        self.sample_rate = float(sample_rate)
        self.n_bands = int(n_bands)
        self.frame_rate = float(frame_rate)
        self.hop = self.sample_rate / self.frame_rate
        self.block = max(1, int(round(self.hop)))  # integer block length; frames are interpolated onto blocks
        ir_size = 2 * (self.n_bands - 1)
        self.ir_size = ir_size if window_size <= 0 or window_size > ir_size else int(window_size)
        self.initial_bias = float(initial_bias)
        self.blocks_per_piece = int(blocks_per_piece)
        # FFT size is a multiple of the block so overlap-add is q shifted adds of [blocks, block] slices.
        self.n_overlap = math.ceil((self.block + self.ir_size - 1) / self.block)
        self.fft_size = self.n_overlap * self.block

    def n_samples_for(self, n_frames: int) -> int:
        return int(round(n_frames * self.hop))

    def get_controls(self, magnitudes_raw: torch.Tensor) -> torch.Tensor:
        """Raw network output [B, T, n_bands] -> band magnitudes exp_sigmoid(x + initial_bias)."""
        return exp_sigmoid(magnitudes_raw + self.initial_bias)

    def impulse_responses(self, magnitudes: torch.Tensor) -> torch.Tensor:
        """Band magnitudes [..., n_bands] -> causal, Hann-windowed FIRs [..., ir_size] (linear phase)."""
        full = torch.fft.irfft(magnitudes.float(), n=2 * (self.n_bands - 1))
        centred = torch.fft.fftshift(full, dim=-1)
        centre = full.shape[-1] // 2
        start = centre - self.ir_size // 2
        return centred[..., start : start + self.ir_size] * _hann(self.ir_size, magnitudes.device)

    @property
    def delay(self) -> int:
        """Group delay of the linear-phase FIR, cropped so the filter is zero-phase (ddsp crops one sample less)."""
        return self.ir_size // 2

    def _block_magnitudes(self, magnitudes: torch.Tensor, first: int, count: int) -> torch.Tensor:
        """Magnitudes for blocks first..first+count-1; block i starts at sample i*block (frame position i*block/hop)."""
        n_frames = magnitudes.shape[1]
        if self.block == self.hop:
            index = torch.clamp(
                torch.arange(first, first + count, device=magnitudes.device), max=n_frames - 1
            )
            return magnitudes[:, index]
        position = torch.arange(first, first + count, dtype=torch.float64, device=magnitudes.device)
        position = position * (self.block / self.hop)
        frame = torch.clamp(torch.floor(position), max=n_frames - 1)
        t = (position - frame).float()[None, :, None]
        frame = frame.long()
        next_frame = torch.clamp(frame + 1, max=n_frames - 1)
        return magnitudes[:, frame] * (1.0 - t) + magnitudes[:, next_frame] * t

    def get_signal(
        self, magnitudes: torch.Tensor, n_samples: int | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Band magnitudes [B, T, n_bands] -> noise audio [B, n_samples]; deterministic for a seeded `generator`."""
        batch, n_frames = magnitudes.shape[:2]
        n_samples = self.n_samples_for(n_frames) if n_samples is None else int(n_samples)
        device = magnitudes.device
        block, q = self.block, self.n_overlap
        n_blocks = math.ceil((n_samples + self.delay) / block)
        audio = torch.empty(batch, n_blocks + q - 1, block, device=device)
        audio[:, : q - 1] = 0.0
        for first in range(0, n_blocks, self.blocks_per_piece):
            count = min(self.blocks_per_piece, n_blocks - first)
            noise = torch.rand(batch, count, block, generator=generator, device=device).mul_(2.0).sub_(1.0)
            ir = self.impulse_responses(self._block_magnitudes(magnitudes, first, count))
            spectrum = torch.fft.rfft(noise, n=self.fft_size).mul_(torch.fft.rfft(ir, n=self.fft_size))
            filtered = torch.fft.irfft(spectrum, n=self.fft_size).reshape(batch, count, q, block)
            # overlap-add: block i's r-th output slice lands on block i + r
            tail = audio[:, first : first + q - 1].clone()
            audio[:, first : first + count] = filtered[:, :, 0]
            audio[:, first : first + q - 1] += tail
            audio[:, first + count : first + count + q - 1] = 0.0
            for r in range(1, q):
                audio[:, first + r : first + r + count] += filtered[:, :, r]
        audio = audio.reshape(batch, -1)
        return audio[:, self.delay : self.delay + n_samples]
