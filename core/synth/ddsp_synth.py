"""`DDSPSynth`: harmonic oscillator bank + filtered noise (+ optional learned reverb), magenta/ddsp style."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .controls import SynthControls
from .harmonic import HarmonicSynth
from .noise import FilteredNoise
from .reverb import Reverb


class DDSPSynth(nn.Module):
    """Frame-rate controls -> audio at any sample rate (the hop sample_rate/frame_rate may be fractional).

    `get_controls` scales raw network outputs; `get_signal` renders them. With `fast=None` the no-autograd
    fast path (numba harmonics, cache-blocked single-thread noise) is used whenever no input needs a gradient.
    """

    def __init__(
        self,
        sample_rate: float,
        frame_rate: float = 250.0,
        n_harmonics: int = 60,
        n_noise_bands: int = 65,
        reverb_length_s: float | None = None,
        n_instruments: int = 1,
        amplitude_method: str = "window",
        noise_window_size: int = 257,
    ):
        super().__init__()
        self.sample_rate = float(sample_rate)
        self.frame_rate = float(frame_rate)
        self.harmonic = HarmonicSynth(sample_rate, n_harmonics, frame_rate, amplitude_method)
        self.noise = FilteredNoise(sample_rate, n_noise_bands, frame_rate, window_size=noise_window_size)
        self.reverb = Reverb(sample_rate, reverb_length_s, n_instruments) if reverb_length_s is not None else None

    def n_samples_for(self, n_frames: int) -> int:
        """round(T * sample_rate / frame_rate)."""
        return int(round(n_frames * self.sample_rate / self.frame_rate))

    def get_controls(
        self,
        amplitude: torch.Tensor,
        harmonic_distribution: torch.Tensor,
        noise_magnitudes: torch.Tensor,
        f0_hz: torch.Tensor,
    ) -> SynthControls:
        """Raw network outputs (amplitude [B,T,1], harmonic_distribution [B,T,K], noise_magnitudes [B,T,N])
        and f0_hz [B,T,1] -> scaled `SynthControls`."""
        harmonic = self.harmonic.get_controls(amplitude, harmonic_distribution, f0_hz)
        return SynthControls(
            f0_hz=harmonic["f0_hz"],
            amplitude=harmonic["amplitude"],
            harmonic_distribution=harmonic["harmonic_distribution"],
            noise_magnitudes=self.noise.get_controls(noise_magnitudes),
        )

    def get_signal(
        self,
        controls: SynthControls,
        n_samples: int | None = None,
        generator: torch.Generator | None = None,
        instrument_ids: torch.Tensor | int | None = None,
        fast: bool | None = None,
        reverb: bool = True,
        decay: bool | None = None,
    ) -> torch.Tensor:
        """Render [B, n_samples] (default round(T*sr/frame_rate)); reverb is applied when the synth has one
        and `reverb` is true, with `instrument_ids` (default 0) choosing the IR per batch row."""
        n_samples = self.n_samples_for(controls.n_frames) if n_samples is None else int(n_samples)
        audio = self.harmonic.get_signal(
            controls.amplitude, controls.harmonic_distribution, controls.f0_hz, n_samples, fast=fast
        )
        noise = self.noise.get_signal(controls.noise_magnitudes, n_samples, generator, fast=fast)
        if audio.requires_grad or noise.requires_grad or audio.device.type != "cpu" or audio.shape != noise.shape:
            audio = audio + noise
        else:  # in place, in numpy: a torch add hands off to a second thread, 10x slower on a busy machine
            np.add(audio.numpy(), noise.numpy(), out=audio.numpy())
        if self.reverb is not None and reverb:
            audio = self.reverb(audio, 0 if instrument_ids is None else instrument_ids, decay=decay)
        return audio

    def forward(
        self,
        amplitude: torch.Tensor,
        harmonic_distribution: torch.Tensor,
        noise_magnitudes: torch.Tensor,
        f0_hz: torch.Tensor,
        n_samples: int | None = None,
        generator: torch.Generator | None = None,
        instrument_ids: torch.Tensor | int | None = None,
    ) -> torch.Tensor:
        controls = self.get_controls(amplitude, harmonic_distribution, noise_magnitudes, f0_hz)
        return self.get_signal(controls, n_samples, generator, instrument_ids)
