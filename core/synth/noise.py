"""Filtered noise (DDSP `FilteredNoise`): uniform noise shaped per frame by a linear-phase FIR.

Each frame's `n_bands` magnitudes (linearly spaced 0..Nyquist) -> zero-phase irfft -> Hann window ->
causal FIR, applied to a hop-sized block of uniform noise in [-1, 1] by FFT convolution (the magnitudes ->
FIR spectrum map is linear, so it is one matmul); blocks are overlap-added as shifted slices (FFT size
q*hop, no `F.fold`), and the FIR's group delay is cropped. Without autograd the FFTs run on cache-sized
batches of blocks that are overlap-added in place.
Both paths work in pieces of `blocks_per_piece` blocks and draw each piece's noise [B, count, block] from the
generator in the same order, so memory is bounded for any length and the noise is the same either way.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from .ops import exp_sigmoid


@contextmanager
def _intra_op_threads(n_threads: int) -> Iterator[None]:
    """Temporarily cap torch's intra-op threads (restored on exit)."""
    previous = torch.get_num_threads()
    if previous <= n_threads:
        yield
        return
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _hann(length: int, device: torch.device | None = None) -> torch.Tensor:
    return torch.hann_window(length, periodic=True, dtype=torch.float32, device=device)


class FilteredNoise(nn.Module):
    """Time-varying filtered uniform noise, one FIR per frame."""

    spectrum_basis: torch.Tensor

    def __init__(
        self,
        sample_rate: float,
        n_bands: int = 65,
        frame_rate: float = 250.0,
        window_size: int = 257,
        initial_bias: float = -5.0,
        blocks_per_piece: int = 4096,
        fast_blocks: int = 256,
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
        self.fast_blocks = max(1, int(fast_blocks))  # FFT batch of the fast path, sized to stay in L2 cache
        # FFT size is a multiple of the block so overlap-add is q shifted adds of [blocks, block] slices.
        self.n_overlap = math.ceil((self.block + self.ir_size - 1) / self.block)
        self.fft_size = self.n_overlap * self.block
        # magnitudes -> IR -> spectrum is linear, so it is one real matmul with this [n_bands, 2 * bins] basis
        basis = torch.fft.rfft(self.impulse_responses(torch.eye(self.n_bands)), n=self.fft_size)
        self.register_buffer("spectrum_basis", torch.view_as_real(basis).reshape(self.n_bands, -1), persistent=False)

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
        """Group delay of the linear-phase FIR; cropping it makes the filter zero-phase (ddsp: 1 less)."""
        return self.ir_size // 2

    def _block_magnitudes(self, magnitudes: torch.Tensor, first: int, count: int) -> torch.Tensor:
        """Magnitudes of blocks first..first+count-1; block i starts at sample i*block (frame i*block/hop)."""
        n_frames = magnitudes.shape[1]
        if self.block == self.hop:
            inside = magnitudes[:, first : min(first + count, n_frames)]
            missing = count - inside.shape[1]  # blocks past the last frame hold it
            if missing == 0:
                return inside
            return torch.cat([inside, magnitudes[:, -1:].expand(-1, missing, -1)], dim=1)
        position = torch.arange(first, first + count, dtype=torch.float64, device=magnitudes.device)
        position = position * (self.block / self.hop)
        frame = torch.clamp(torch.floor(position), max=n_frames - 1)
        t = (position - frame).float()[None, :, None]
        frame = frame.long()
        next_frame = torch.clamp(frame + 1, max=n_frames - 1)
        return magnitudes[:, frame] * (1.0 - t) + magnitudes[:, next_frame] * t

    def _n_blocks(self, n_samples: int) -> int:
        return math.ceil((n_samples + self.delay) / self.block)

    def get_signal(
        self,
        magnitudes: torch.Tensor,
        n_samples: int | None = None,
        generator: torch.Generator | None = None,
        fast: bool | None = None,
    ) -> torch.Tensor:
        """Band magnitudes [B, T, n_bands] -> noise [B, n_samples]; deterministic for a seeded `generator`.

        `fast=None` uses the numba kernel whenever no gradient is needed ; both paths draw the same noise.
        """
        n_samples = self.n_samples_for(magnitudes.shape[1]) if n_samples is None else int(n_samples)
        if fast is None:
            fast = not (torch.is_grad_enabled() and magnitudes.requires_grad)
        if fast:
            return self._render_fast(magnitudes, n_samples, generator)
        return self._render_differentiable(magnitudes, n_samples, generator)

    def _render_fast(self, magnitudes: torch.Tensor, n_samples: int, generator: torch.Generator | None) -> torch.Tensor:
        """`_render` without autograd, FFTs in L2-sized batches of `fast_blocks` blocks, one intra-op thread.

        These ops are too small to gain from a second thread, and on a busy machine every parallel region
        waits for a descheduled worker (measured 10-50x slower with 2 threads under load).
        """
        with torch.no_grad(), _intra_op_threads(1):
            return self._render(magnitudes.detach(), n_samples, generator, self.fast_blocks)

    def _render_differentiable(
        self, magnitudes: torch.Tensor, n_samples: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        return self._render(magnitudes, n_samples, generator, self.blocks_per_piece)

    def _render(
        self, magnitudes: torch.Tensor, n_samples: int, generator: torch.Generator | None, fft_blocks: int
    ) -> torch.Tensor:
        """Draw each piece's noise [B, count, block], filter `fft_blocks` blocks at a time, crop the delay."""
        batch = magnitudes.shape[0]
        block, q = self.block, self.n_overlap
        n_blocks = self._n_blocks(n_samples)
        audio = torch.empty(batch, n_blocks + q - 1, block, device=magnitudes.device)
        audio[:, : q - 1] = 0.0
        for first in range(0, n_blocks, self.blocks_per_piece):
            count = min(self.blocks_per_piece, n_blocks - first)
            noise = torch.empty(batch, count, block, device=magnitudes.device)
            noise.uniform_(-1.0, 1.0, generator=generator)
            for sub in range(0, count, fft_blocks):
                size = min(fft_blocks, count - sub)
                self._filter_into(audio, noise[:, sub : sub + size], magnitudes, first + sub, size)
        return audio.reshape(batch, -1)[:, self.delay : self.delay + n_samples]

    def _filter_into(
        self, audio: torch.Tensor, noise: torch.Tensor, magnitudes: torch.Tensor, first: int, count: int
    ) -> None:
        """Filter `count` noise blocks from block `first` on; overlap-add them into `audio` [B, rows, block].

        Rows first..first+q-2 already hold the tails of earlier blocks; later rows are written fresh.
        """
        batch, q = audio.shape[0], self.n_overlap
        block_magnitudes = self._block_magnitudes(magnitudes, first, count).float()
        ir_spectrum = torch.view_as_complex((block_magnitudes @ self.spectrum_basis).reshape(batch, count, -1, 2))
        spectrum = torch.fft.rfft(noise, n=self.fft_size) * ir_spectrum
        filtered = torch.fft.irfft(spectrum, n=self.fft_size).reshape(batch, count, q, self.block)
        # block i's r-th output slice lands on row i + r
        carried = min(q - 1, count)
        audio[:, first + max(count, q - 1) : first + count + q - 1] = 0.0
        audio[:, first + carried : first + count] = filtered[:, carried:, 0]
        audio[:, first : first + carried] += filtered[:, :carried, 0]
        for r in range(1, q):
            audio[:, first + r : first + r + count] += filtered[:, :, r]
