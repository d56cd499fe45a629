"""`SynthControls`: the scaled synthesis parameters at frame rate, as the synth consumes them."""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

CONTROL_KEYS = ("f0_hz", "amplitude", "harmonic_distribution", "noise_magnitudes")


@dataclass
class SynthControls:
    """f0_hz [B,T] (Hz), amplitude [B,T], harmonic_distribution [B,T,K] (sums to 1 below Nyquist),
    noise_magnitudes [B,T,N] (linear band magnitudes)."""

    f0_hz: torch.Tensor
    amplitude: torch.Tensor
    harmonic_distribution: torch.Tensor
    noise_magnitudes: torch.Tensor

    @property
    def n_frames(self) -> int:
        return self.f0_hz.shape[1]

    def to_dict(self) -> dict[str, torch.Tensor]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, values: dict[str, torch.Tensor]) -> SynthControls:
        """Build from a dict with the four keys; [B,T,1] f0/amplitude are squeezed to [B,T]."""
        missing = [key for key in CONTROL_KEYS if key not in values]
        if missing:
            raise KeyError(f"synth controls missing {missing}")
        squeeze = {"f0_hz", "amplitude"}
        return cls(
            **{
                key: (values[key][..., 0] if key in squeeze and values[key].dim() == 3 else values[key])
                for key in CONTROL_KEYS
            }
        )

    def detach(self) -> SynthControls:
        return SynthControls(**{k: v.detach() for k, v in self.to_dict().items()})

    def to(self, *args, **kwargs) -> SynthControls:
        return SynthControls(**{k: v.to(*args, **kwargs) for k, v in self.to_dict().items()})
