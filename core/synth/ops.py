"""Differentiable DSP helpers shared by the synth modules (scaling, dB, frame-to-sample interpolation)."""

from __future__ import annotations

import math

import torch

from readdsp.core.units import amplitude_to_db  # noqa: F401  (re-exported: the synth's dB)

INTERPOLATION_METHODS = ("linear", "window")


def exp_sigmoid(
    x: torch.Tensor, exponent: float = 10.0, max_value: float = 2.0, threshold: float = 1e-7
) -> torch.Tensor:
    """DDSP's positive scaling: `max_value * sigmoid(x) ** log(exponent) + threshold`."""
    return max_value * torch.sigmoid(x) ** math.log(exponent) + threshold


def safe_log(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Natural log with inputs below `eps` clamped to `eps` (as ddsp's `safe_log`)."""
    return torch.log(torch.clamp(x, min=eps))


def interpolation_weight(t: torch.Tensor, method: str) -> torch.Tensor:
    """Weight of the next frame at fractional position `t` in [0, 1] between two frames.

    "linear" is `t`; "window" is the Hann 50 %-overlap-add crossfade of ddsp's `upsample_with_windows`,
    which between two frame centres equals `sin(pi*t/2)**2`.
    """
    if method == "linear":
        return t
    if method == "window":
        return torch.sin(0.5 * math.pi * t) ** 2
    raise ValueError(f"unknown interpolation method {method!r}; expected one of {INTERPOLATION_METHODS}")


def frame_positions(
    n_samples: int, hop: float, n_frames: int, device: torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For every sample n: (frame j, next frame j+1, fraction t) with frame j centred on sample j*hop.

    Positions are computed in float64 as n / hop, so non-integer hops (22.05 or 44.1 kHz at 250 Hz) are exact;
    after the last frame the last value is held.
    """
    position = torch.arange(n_samples, dtype=torch.float64, device=device) / hop
    frame = torch.clamp(torch.floor(position), max=n_frames - 1)
    fraction = position - frame
    frame = frame.long()
    next_frame = torch.clamp(frame + 1, max=n_frames - 1)
    return frame, next_frame, fraction


def upsample_frames(
    frames: torch.Tensor, n_samples: int, method: str = "linear", hop: float | None = None
) -> torch.Tensor:
    """Interpolate frame-rate controls [B, T, C] to audio rate [B, n_samples, C].

    `hop` (samples per frame, may be fractional) defaults to n_samples / T.
    """
    n_frames = frames.shape[1]
    hop = n_samples / n_frames if hop is None else hop
    frame, next_frame, fraction = frame_positions(n_samples, hop, n_frames, frames.device)
    weight = interpolation_weight(fraction, method).to(frames.dtype)[None, :, None]
    return frames[:, frame] * (1.0 - weight) + frames[:, next_frame] * weight
