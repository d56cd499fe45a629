"""Synthesis-level overrides: user-drawn f0 and loudness curves in performance time, applied to a segment's controls.

What a drawn curve does to the other parameters (the rule the panel documents):
- A drawn f0 replaces the Synthesis Generator's f0 over the drawn span only. Amplitude, harmonic distribution and
  noise stay as generated for the notes as written (the timbre does not follow the new pitch, as in the paper's
  synthesis-level edits); harmonics that a higher f0 pushes to or past Nyquist are dropped and the rest
  renormalised, so the distribution stays valid. Notes and expression controls are untouched.
- A drawn loudness replaces the harmonic amplitude (in dB) over its span; the noise is scaled by the same gain, so
  a swell moves the breath with the tone instead of leaving it behind.
- Outside the drawn spans every curve is the model's. Re-rendering with another seed or other expression
  regenerates the model's curves; the drawn spans stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from readdsp.core.errors import ReaDDSPError
from readdsp.core.synth.controls import SynthControls
from readdsp.core.units import amplitude_to_db, midi_to_hz

F0_RANGE_MIDI = (0.0, 135.0)  # drawn f0 in MIDI pitch, clamped to this range
LOUDNESS_RANGE_DB = (-120.0, 6.0)  # drawn amplitude in dB, clamped to this range


@dataclass
class Curve:
    """A drawn curve: increasing times (s, performance time) and one value per time."""

    times: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        self.times = np.asarray(self.times, float)
        self.values = np.asarray(self.values, float)
        if self.times.ndim != 1 or self.times.shape != self.values.shape or len(self.times) < 2:
            raise ReaDDSPError("a drawn curve needs at least two (time, value) points")
        if not (np.isfinite(self.times).all() and np.isfinite(self.values).all()):
            raise ReaDDSPError("a drawn curve must hold finite numbers")
        order = np.argsort(self.times, kind="stable")
        self.times, self.values = self.times[order], self.values[order]

    def sample(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mask of `times` inside the drawn span, the curve's values there, linearly interpolated)."""
        inside = (times >= self.times[0]) & (times <= self.times[-1])
        return inside, np.interp(times[inside], self.times, self.values)


@dataclass
class PartCurves:
    """One part's drawn curves: f0 in (fractional) MIDI pitch and loudness as harmonic amplitude in dB."""

    f0_midi: list[Curve] = field(default_factory=list)
    loudness_db: list[Curve] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.f0_midi or self.loudness_db)


#: part index (as in the render plan's parts) -> that part's drawn curves
CurveOverrides = dict[int, PartCurves]


def frame_times(start_s: float, n_frames: int, frame_rate: float) -> np.ndarray:
    """Performance time (s) of each frame of a segment that starts at `start_s`."""
    return start_s + np.arange(n_frames) / float(frame_rate)


def apply_curve_overrides(
    controls: SynthControls, curves: PartCurves | None, start_s: float, frame_rate: float, sample_rate: int
) -> SynthControls:
    """A segment's controls (batch of one) with the drawn curves applied over their spans; unchanged if none apply.

    This is the one call a renderer makes per segment, between generating the controls and synthesizing them.
    """
    if not curves:
        return controls
    times = frame_times(start_s, controls.n_frames, frame_rate)
    f0 = controls.f0_hz[0].double().numpy().copy()
    gain_db = np.zeros_like(f0)
    for curve in curves.f0_midi:
        inside, values = curve.sample(times)
        f0[inside] = midi_to_hz(np.clip(values, *F0_RANGE_MIDI))
    amplitude = controls.amplitude[0].double().numpy()
    for curve in curves.loudness_db:
        inside, values = curve.sample(times)
        gain_db[inside] = np.clip(values, *LOUDNESS_RANGE_DB) - amplitude_to_db(amplitude[inside])
    if np.array_equal(f0, controls.f0_hz[0].double().numpy()) and not gain_db.any():
        return controls
    dtype = controls.f0_hz.dtype
    f0_t = torch.from_numpy(f0).to(dtype)[None]
    gain = torch.from_numpy(10.0 ** (gain_db / 20.0)).to(dtype)[None]
    k = torch.arange(1, controls.harmonic_distribution.shape[-1] + 1, dtype=dtype)
    audible = (f0_t[..., None] * k < sample_rate / 2).to(dtype)
    distribution = controls.harmonic_distribution * audible
    distribution = distribution / torch.clamp(distribution.sum(-1, keepdim=True), min=1e-7)
    return replace(
        controls,
        f0_hz=f0_t,
        amplitude=controls.amplitude * gain,
        harmonic_distribution=distribution,
        noise_magnitudes=controls.noise_magnitudes * gain[..., None],
    )
