"""Small building blocks shared by the models: log-mel front end, FC stacks, dilated conv stacks."""

from __future__ import annotations

import librosa
import numpy as np
import torch
from torch import nn


class LogMel(nn.Module):
    """Log-mel spectrogram on the 250 Hz frame grid (torch.stft, no torchaudio)."""

    def __init__(self, sample_rate: int, frame_rate: int = 250, n_mels: int = 64, fmin: float = 40.0):
        super().__init__()
        self.hop = sample_rate // frame_rate
        self.n_fft = int(2 ** np.ceil(np.log2(4 * self.hop)))
        fb = librosa.filters.mel(sr=sample_rate, n_fft=self.n_fft, n_mels=n_mels, fmin=fmin, fmax=sample_rate / 2)
        self.register_buffer("filterbank", torch.from_numpy(fb).float(), persistent=False)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    def forward(self, audio: torch.Tensor, n_frames: int) -> torch.Tensor:
        """[B, n_samples] -> [B, n_frames, n_mels] log-mel (log(mel + 1e-5))."""
        spec = torch.stft(audio, self.n_fft, self.hop, window=self.window, center=True, return_complex=True).abs()
        mel = torch.einsum("mf,bft->btm", self.filterbank, spec)
        mel = torch.log(mel + 1e-5)
        if mel.shape[1] < n_frames:
            mel = nn.functional.pad(mel, (0, 0, 0, n_frames - mel.shape[1]))
        return mel[:, :n_frames]


class FcStack(nn.Module):
    """Dense -> LayerNorm -> LeakyReLU, repeated."""

    def __init__(self, in_dim: int, hidden: int, n_layers: int, out_dim: int | None = None):
        super().__init__()
        layers: list[nn.Module] = []
        dim = in_dim
        for _ in range(n_layers):
            layers += [nn.Linear(dim, hidden), nn.LayerNorm(hidden), nn.LeakyReLU(0.2)]
            dim = hidden
        if out_dim is not None:
            layers.append(nn.Linear(dim, out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DilatedConvStack(nn.Module):
    """Non-causal residual dilated 1-D convolutions over time ([B, T, C] in and out)."""

    def __init__(self, in_dim: int, channels: int, out_dim: int, dilations: tuple[int, ...], kernel: int = 3):
        super().__init__()
        self.inp = nn.Linear(in_dim, channels)
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, dilation=d, padding=d * (kernel - 1) // 2) for d in dilations
        )
        self.norms = nn.ModuleList(nn.LayerNorm(channels) for _ in dilations)
        self.out = nn.Linear(channels, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = h + nn.functional.leaky_relu(norm(conv(h.transpose(1, 2)).transpose(1, 2)), 0.2)
        return self.out(h)
