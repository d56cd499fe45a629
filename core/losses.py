"""Multi-scale spectral loss (ddsp `SpectralLoss`): L1 on |STFT| and on log|STFT| summed over FFT sizes."""

from __future__ import annotations

import math

import torch
from torch import nn

from .synth.ops import safe_log


def stft_magnitude(audio: torch.Tensor, fft_size: int, overlap: float = 0.75) -> torch.Tensor:
    """|STFT| [B, frames, bins] as tf.signal.stft(pad_end=True): periodic Hann, no centring, end padding."""
    hop = int(fft_size * (1.0 - overlap))
    n = audio.shape[-1]
    n_frames = max(1, math.ceil(n / hop))
    padded = nn.functional.pad(audio, (0, (n_frames - 1) * hop + fft_size - n))
    frames = padded.unfold(-1, fft_size, hop)
    window = torch.hann_window(fft_size, periodic=True, dtype=audio.dtype, device=audio.device)
    return torch.fft.rfft(frames * window).abs()


class MultiScaleSpectralLoss(nn.Module):
    """sum over fft_sizes of mag_weight * mean|S_t - S_v| + logmag_weight * mean|log S_t - log S_v|."""

    def __init__(
        self,
        fft_sizes: tuple[int, ...] = (2048, 1024, 512, 256, 128, 64),
        overlap: float = 0.75,
        mag_weight: float = 1.0,
        logmag_weight: float = 1.0,
    ):
        super().__init__()
        self.fft_sizes = tuple(int(size) for size in fft_sizes)
        self.overlap = float(overlap)
        self.mag_weight = float(mag_weight)
        self.logmag_weight = float(logmag_weight)

    def forward(self, target: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        """target, value: audio [B, N] (or [N]) -> scalar loss."""
        loss = target.new_zeros(())
        for size in self.fft_sizes:
            target_mag = stft_magnitude(target, size, self.overlap)
            value_mag = stft_magnitude(value, size, self.overlap)
            if self.mag_weight > 0:
                loss = loss + self.mag_weight * (target_mag - value_mag).abs().mean()
            if self.logmag_weight > 0:
                loss = loss + self.logmag_weight * (safe_log(target_mag) - safe_log(value_mag)).abs().mean()
        return loss
