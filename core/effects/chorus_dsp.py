"""juce::dsp::Chorus's structure (pedalboard's Chorus): sine-LFO delay line with feedback, dry/wet mix."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numba
import numpy as np


@dataclass
class ChorusParams:
    """Delay (in samples) = max(min_delay, centre + swing * sin(lfo_phase[n] + phase)) at output sample n.

    lfo_phase accumulates 2 pi rate / sr per sample in float32 and wraps at 2 pi, as juce::dsp::Phase does
    (its rounding makes the true LFO rate differ from the nominal one by ~0.1 %, which matters over minutes).
    The delay line is fed input - feedback * previous wet sample and read with linear interpolation;
    out = dry * input + wet * delayed. JUCE: swing = 10 ms * depth, min_delay = 1 ms, phase = -pi, and
    the LFO restarts with each reset (our datasets reset the plugin at the start of every split).
    """

    rate_hz: float
    phase: float
    centre: float
    swing: float
    min_delay: float
    feedback: float
    dry: float
    wet: float

    def as_dict(self) -> dict[str, float]:
        """Plain floats (for JSON)."""
        return {k: float(v) for k, v in asdict(self).items()}


@numba.njit(cache=True)
def _delay_line(x, delays, feedback):  # noqa: ANN001, ANN202
    n = len(x)
    fed = np.zeros(n)
    wet = np.zeros(n)
    last = 0.0
    for i in range(n):
        fed[i] = x[i] - feedback * last
        pos = i - delays[i]
        j = int(np.floor(pos))
        frac = pos - j
        a = fed[j] if 0 <= j <= i else 0.0
        b = fed[j + 1] if 0 <= j + 1 <= i else 0.0
        wet[i] = a + frac * (b - a)
        last = wet[i]
    return wet


@numba.njit(cache=True)
def _float32_phase(n, increment):  # noqa: ANN001, ANN202
    out = np.empty(n, np.float32)
    two_pi = np.float32(2 * np.pi)
    phase = np.float32(0.0)
    for i in range(n):
        out[i] = phase
        phase = np.float32(phase + increment)
        while phase >= two_pi:
            phase = np.float32(phase - two_pi)
    return out


def lfo_phase(rate_hz: float, n: int, sr: int) -> np.ndarray:
    """The LFO's phase (radians, float32 accumulation from 0) for n samples."""
    increment = np.float32(np.float32(2 * np.pi) * np.float32(rate_hz) / np.float32(sr))
    return _float32_phase(n, increment).astype(np.float64)


def lfo_delays(p: ChorusParams, n: int, sr: int) -> np.ndarray:
    """Per-sample delay in samples for the first n output samples."""
    return np.maximum(p.min_delay, p.centre + p.swing * np.sin(lfo_phase(p.rate_hz, n, sr) + p.phase))


def wet_signal(x: np.ndarray, p: ChorusParams, sr: int) -> np.ndarray:
    """The delay line's output (before the dry/wet mix), float64."""
    x = np.asarray(x, np.float64)
    return _delay_line(x, lfo_delays(p, len(x), sr), float(p.feedback))


def render_chorus(x: np.ndarray, p: ChorusParams, sr: int) -> np.ndarray:
    """The chorus output for mono input that starts where the LFO restarts."""
    x = np.asarray(x, np.float64)
    return (p.dry * x + p.wet * wet_signal(x, p, sr)).astype(np.float32)
