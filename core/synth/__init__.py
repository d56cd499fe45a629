"""Differentiable DDSP synthesizer (torch) with a fast no-autograd inference path."""

from .controls import CONTROL_KEYS, SynthControls
from .ddsp_synth import DDSPSynth
from .harmonic import HarmonicSynth
from .noise import FilteredNoise
from .ops import amplitude_to_db, exp_sigmoid, frame_positions, safe_log, upsample_frames
from .reverb import Reverb, fft_convolve

__all__ = [
    "CONTROL_KEYS",
    "DDSPSynth",
    "FilteredNoise",
    "HarmonicSynth",
    "Reverb",
    "SynthControls",
    "amplitude_to_db",
    "exp_sigmoid",
    "fft_convolve",
    "frame_positions",
    "safe_log",
    "upsample_frames",
]
