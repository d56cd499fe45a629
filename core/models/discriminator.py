"""Conditional multi-scale discriminator on synthesis parameters (LSGAN with feature matching), as in MIDI-DDSP."""

from __future__ import annotations

import torch
from torch import nn


class ScaleDiscriminator(nn.Module):
    """Four 1-D conv blocks over (conditioning, parameters) at one time scale."""

    def __init__(self, in_dim: int, channels: int = 128, n_blocks: int = 4):
        super().__init__()
        dims = [in_dim] + [channels] * n_blocks
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv1d(a, b, 3, padding=1), nn.LeakyReLU(0.2))
            for a, b in zip(dims, dims[1:], strict=False)
        )
        self.out = nn.Conv1d(channels, 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        features = []
        h = x.transpose(1, 2)
        for block in self.blocks:
            h = block(h)
            features.append(h)
        return self.out(h), features


class MultiScaleDiscriminator(nn.Module):
    """Three scales: the frame rate, and average-pooled by 2 and 4."""

    def __init__(self, cond_dim: int, param_dim: int, channels: int = 128):
        super().__init__()
        self.scales = nn.ModuleList(ScaleDiscriminator(cond_dim + param_dim, channels) for _ in range(3))

    def forward(self, cond: torch.Tensor, params: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        x = torch.cat([cond, params], dim=-1)
        results = []
        for i, disc in enumerate(self.scales):
            if i:
                x = nn.functional.avg_pool1d(x.transpose(1, 2), 2).transpose(1, 2)
            results.append(disc(x))
        return results


def discriminator_loss(real: list, fake: list) -> torch.Tensor:
    """LSGAN: real -> 1, fake -> 0."""
    return sum(((r[0] - 1) ** 2).mean() + (f[0] ** 2).mean() for r, f in zip(real, fake, strict=True)) / len(real)


def generator_adversarial_loss(real: list, fake: list) -> tuple[torch.Tensor, torch.Tensor]:
    """LSGAN generator term (fake -> 1) and L1 feature matching against the real features."""
    adv = sum(((f[0] - 1) ** 2).mean() for f in fake) / len(fake)
    fm = sum(
        (rf.detach() - ff).abs().mean()
        for r, f in zip(real, fake, strict=True)
        for rf, ff in zip(r[1], f[1], strict=True)
    ) / len(fake)
    return adv, fm
