"""DDSP Inference: audio (log-mel) + f0 + loudness -> synthesis parameters (amplitude, harmonics, noise)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from readdsp.core.models.layers import FcStack, LogMel
from readdsp.core.units import hz_to_midi


@dataclass
class DDSPInferenceConfig:
    """Sizes (the paper: CNN 64..512, dense 256, BiLSTM 256; a quarter/half here so it trains on 2 CPU cores)."""

    sample_rate: int = 48000
    frame_rate: int = 250
    n_mels: int = 64
    cnn_channels: tuple[int, ...] = (16, 32, 64, 64)
    hidden: int = 128
    n_instruments: int = 16
    instrument_dim: int = 32
    n_harmonics: int = 100
    n_noise_bands: int = 65

    def to_dict(self) -> dict:
        return asdict(self)


class MelCnn(nn.Module):
    """Conv blocks over (time, mel) that pool frequency only, then a dense projection per frame."""

    def __init__(self, n_mels: int, channels: tuple[int, ...], out_dim: int):
        super().__init__()
        blocks: list[nn.Module] = []
        c_in, freq = 1, n_mels
        for c_out in channels:
            blocks += [
                nn.Conv2d(c_in, c_out, 3, padding=1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
                nn.AvgPool2d((1, 2)),
                nn.Dropout(0.1),
            ]
            c_in, freq = c_out, freq // 2
        self.blocks = nn.Sequential(*blocks)
        self.proj = nn.Linear(c_in * freq, out_dim)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        h = self.blocks(mel.unsqueeze(1))  # [B, C, T, F]
        b, c, t, f = h.shape
        return self.proj(h.permute(0, 2, 1, 3).reshape(b, t, c * f))


def init_head_for_harmonics(head: nn.Linear, n_harmonics: int) -> None:
    """Start the amplitude near a played note's level and the harmonics falling as 1/k.

    exp_sigmoid's gradient vanishes as its output nears the floor. Started at an amplitude of 1 (50 times the corpus's
    level) over a flat spectrum, the amplitude was pushed down into that floor within the first few hundred steps
    and never came back: the 48 kHz run reached step 4,298 making all its sound with filtered noise (median
    amplitude 1.3e-6). From here every row starts where its gradient is alive.
    """
    k = torch.arange(1, n_harmonics + 1, dtype=torch.float32)
    distribution = 0.5 / k  # exp_sigmoid(x) = 2 sigmoid(x)^ln(10): solve for x
    sigmoid = (distribution / 2.0) ** (1.0 / math.log(10.0))
    with torch.no_grad():
        head.weight[: 1 + n_harmonics].mul_(0.1)
        head.bias[0] = _inverse_exp_sigmoid(0.03)  # about -30 dB, a mezzo-forte note of the corpus
        head.bias[1 : 1 + n_harmonics] = torch.log(sigmoid / (1.0 - sigmoid))


def _inverse_exp_sigmoid(value: float) -> float:
    sigmoid = (value / 2.0) ** (1.0 / math.log(10.0))
    return math.log(sigmoid / (1.0 - sigmoid))


class DDSPInference(nn.Module):
    """Mel-CNN + [f0, loudness] + instrument embedding -> BiLSTM -> raw amplitude / harmonic / noise heads."""

    def __init__(self, config: DDSPInferenceConfig):
        super().__init__()
        self.config = config
        self.mel = LogMel(config.sample_rate, config.frame_rate, config.n_mels)
        self.cnn = MelCnn(config.n_mels, config.cnn_channels, config.hidden)
        self.features = FcStack(2, config.hidden, 2)
        self.instrument = nn.Embedding(config.n_instruments, config.instrument_dim)
        self.rnn = nn.LSTM(
            2 * config.hidden + config.instrument_dim, config.hidden, batch_first=True, bidirectional=True
        )
        self.head = nn.Linear(2 * config.hidden, 1 + config.n_harmonics + config.n_noise_bands)
        init_head_for_harmonics(self.head, config.n_harmonics)

    def forward(
        self, audio: torch.Tensor, f0_hz: torch.Tensor, loudness_db: torch.Tensor, instrument_id: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Raw (pre-exp_sigmoid) parameters on the frame grid of `f0_hz` ([B, T])."""
        n_frames = f0_hz.shape[1]
        mel_feat = self.cnn(self.mel(audio, n_frames))
        midi = hz_to_midi(f0_hz)
        scalars = torch.stack([midi / 127.0, loudness_db / 80.0 + 1.0], dim=-1)
        inst = self.instrument(instrument_id)[:, None, :].expand(-1, n_frames, -1)
        h, _ = self.rnn(torch.cat([mel_feat, self.features(scalars), inst], dim=-1))
        out = self.head(h)
        k = self.config.n_harmonics
        return {"amplitude": out[..., :1], "harmonics": out[..., 1 : 1 + k], "noise": out[..., 1 + k :]}
