"""Small building blocks shared by the models: log-mel front end, FC stacks, dilated conv stacks."""

from __future__ import annotations

from collections.abc import Iterator

import librosa
import numpy as np
import torch
from torch import nn


class LogMel(nn.Module):
    """Log-mel spectrogram on the 250 Hz frame grid (torch.stft, no torchaudio)."""

    filterbank: torch.Tensor
    window: torch.Tensor

    def __init__(self, sample_rate: int, frame_rate: int = 250, n_mels: int = 64, fmin: float = 40.0):
        super().__init__()
        self.hop = sample_rate // frame_rate
        self.n_fft = int(2 ** np.ceil(np.log2(4 * self.hop)))
        fb = librosa.filters.mel(sr=sample_rate, n_fft=self.n_fft, n_mels=n_mels, fmin=fmin, fmax=sample_rate / 2)
        self.register_buffer("filterbank", torch.from_numpy(fb).float(), persistent=False)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    def forward(self, audio: torch.Tensor, n_frames: int) -> torch.Tensor:
        """[B, n_samples] -> [B, n_frames, n_mels] log-mel (log(mel + 1e-5))."""
        if audio.shape[-1] <= self.n_fft // 2:  # the centring reflect pad needs more samples than it adds
            audio = nn.functional.pad(audio, (0, self.n_fft // 2 + 1 - audio.shape[-1]))
        spec = torch.stft(audio, self.n_fft, self.hop, window=self.window, center=True, return_complex=True).abs()
        mel = torch.einsum("mf,bft->btm", self.filterbank, spec)
        mel = torch.log(mel + 1e-5)
        if mel.shape[1] < n_frames:
            mel = nn.functional.pad(mel, (0, 0, 0, n_frames - mel.shape[1]))
        return mel[:, :n_frames]


def cast_linear(x: torch.Tensor, layer: nn.Linear) -> torch.Tensor:
    """`layer(x)` in x's dtype (the weights are cast, the module is not)."""
    bias = None if layer.bias is None else layer.bias.to(x.dtype)
    return nn.functional.linear(x, layer.weight.to(x.dtype), bias)


def cast_layer_norm(x: torch.Tensor, norm: nn.LayerNorm) -> torch.Tensor:
    """`norm(x)` in x's dtype."""
    return nn.functional.layer_norm(x, norm.normalized_shape, norm.weight.to(x.dtype), norm.bias.to(x.dtype), norm.eps)


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

    def infer(self, x: torch.Tensor) -> torch.Tensor:
        """`forward` computed in x's dtype (e.g. bfloat16 at inference)."""
        for layer in self.net:
            if isinstance(layer, nn.Linear):
                x = cast_linear(x, layer)
            elif isinstance(layer, nn.LayerNorm):
                x = cast_layer_norm(x, layer)
            else:
                x = layer(x)
        return x


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

    def layers(self) -> Iterator[tuple[nn.Conv1d, nn.LayerNorm]]:
        """The (convolution, norm) pairs in order."""
        for conv, norm in zip(self.convs, self.norms, strict=True):
            assert isinstance(conv, nn.Conv1d) and isinstance(norm, nn.LayerNorm)
            yield conv, norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        for conv, norm in self.layers():
            h = h + nn.functional.leaky_relu(norm(conv(h.transpose(1, 2)).transpose(1, 2)), 0.2)
        return self.out(h)

    @property
    def reach(self) -> int:
        """How many frames on each side of a frame its output depends on."""
        return sum(conv.dilation[0] * (conv.kernel_size[0] - 1) // 2 for conv, _ in self.layers())

    def infer_packed(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """[N, in] rows packed end to end -> [N, out], in x's dtype.

        The rows are laid in one long sequence, `reach` zero frames apart, so no output sees another row, and the
        convolutions become single matrix products over all frames (no batch padding, no transposes).
        """
        gap = self.reach
        n_frames = int(lengths.sum())
        row_starts = torch.cumsum(lengths + gap, 0) - lengths  # each row begins after `gap` zero frames
        index = torch.arange(n_frames) + torch.repeat_interleave(
            row_starts - (torch.cumsum(lengths, 0) - lengths), lengths
        )
        h = cast_linear(x.new_zeros(n_frames + gap * (len(lengths) + 1), x.shape[1]).index_copy_(0, index, x), self.inp)
        for conv, norm in self.layers():
            h = self._residual_layer_time_major(h, conv, norm)
        return cast_linear(torch.index_select(h, 0, index), self.out)

    @staticmethod
    def _residual_layer_time_major(
        h: torch.Tensor, conv: nn.Conv1d, norm: nn.LayerNorm, chunk: int = 8192
    ) -> torch.Tensor:
        """h + leaky_relu(norm(conv(h))) on [L, C], in chunks of time that stay in cache.

        The kernel-3 convolution is three matrix products, the outer taps accumulated in place into rows shifted by
        the dilation (frames outside [0, L) are the convolution's zero padding).
        """
        d = conv.dilation[0]
        weight = conv.weight.to(h.dtype)
        past, centre, future = weight[:, :, 0].T, weight[:, :, 1].T, weight[:, :, 2].T
        bias = h.new_zeros(conv.out_channels) if conv.bias is None else conv.bias.to(h.dtype)
        length = h.shape[0]
        out = torch.empty_like(h)
        for lo in range(0, length, chunk):
            hi = min(lo + chunk, length)
            y = torch.addmm(bias, h[lo:hi], centre)
            past_from = max(lo, d)
            if past_from < hi:
                y[past_from - lo :].addmm_(h[past_from - d : hi - d], past)
            future_to = min(hi, length - d)
            if future_to > lo:
                y[: future_to - lo].addmm_(h[lo + d : future_to + d], future)
            y = cast_layer_norm(y, norm)
            torch.add(nn.functional.leaky_relu_(y, 0.2), h[lo:hi], out=out[lo:hi])
        return out
