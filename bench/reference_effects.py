"""Reference effects the models were not built to match, written here in numpy/scipy/numba (not pedalboard).

Each takes mono float64 audio at `sr` and returns the processed audio, starting from rest (as a plugin does
after a reset). Their structures differ from our models on purpose: cubic (Lagrange) delay interpolation,
LFOs that are triangles or rounded shapes, a phaser swept linearly in Hz, a compressor with a peak envelope
follower in the linear domain, a noise gate as a state machine (peak follower, open/close thresholds with
hysteresis, hold counter, a linear gain ramp to open and a linear-domain decay to close), an overdrive with a
DC blocker.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np
from scipy import signal


def triangle(phase_cycles: np.ndarray) -> np.ndarray:
    """-1..1 triangle, +1 at phase 0."""
    return 4 * np.abs(np.mod(phase_cycles, 1.0) - 0.5) - 1


def rounded(phase_cycles: np.ndarray) -> np.ndarray:
    """A parabolic wave -1..1 (two parabolas per period: sine-like, but not a sine)."""
    p = np.mod(phase_cycles, 1.0)
    half = np.mod(p, 0.5)
    return np.where(p < 0.5, 1.0, -1.0) * 8 * half * (1 - 2 * half)


@numba.njit(cache=True)
def _lagrange_delay(x, delays, feedback):  # noqa: ANN001, ANN202
    """Delay line with 4-point Lagrange interpolation and feedback of its own output."""
    n = len(x)
    fed = np.zeros(n)
    out = np.zeros(n)
    for i in range(n):
        pos = i - delays[i]
        j = int(np.floor(pos))
        f = pos - j
        acc = 0.0
        for k in range(-1, 3):
            idx = j + k
            if 0 <= idx < i:
                w = 1.0
                for m in range(-1, 3):
                    if m != k:
                        w *= (f - m) / (k - m)
                acc += w * fed[idx]
        out[i] = acc
        fed[i] = x[i] + feedback * acc
    return out


Shape = Callable[[np.ndarray], np.ndarray]


def modulated_delay(x: np.ndarray, sr: int, centre_ms: float, swing_ms: float, rate_hz: float, shape: Shape,
                    feedback: float, dry: float, wet: float) -> np.ndarray:  # fmt: skip
    phase = rate_hz * np.arange(len(x)) / sr
    delays = (centre_ms + swing_ms * shape(phase)) * sr / 1000
    return dry * x + wet * _lagrange_delay(np.asarray(x, np.float64), delays, feedback)


def chorus(x: np.ndarray, sr: int) -> np.ndarray:
    """55 ms centre delay, +-6 ms triangle LFO at 0.6 Hz, no feedback, 60/40 mix."""
    return modulated_delay(x, sr, 55.0, 6.0, 0.6, triangle, 0.0, 0.6, 0.4)


def flanger(x: np.ndarray, sr: int) -> np.ndarray:
    """0.7..5.3 ms sweep with a parabolic LFO at 0.25 Hz, feedback 0.5, 35/35 mix."""
    return modulated_delay(x, sr, 3.0, 2.3, 0.25, rounded, 0.5, 0.35, 0.35)


def vibrato(x: np.ndarray, sr: int) -> np.ndarray:
    """Pitch vibrato: 4 +- 2.5 ms sine at 5.5 Hz, wet only."""
    return modulated_delay(x, sr, 4.0, 2.5, 5.5, lambda p: np.sin(2 * np.pi * p), 0.0, 0.0, 0.8)


@numba.njit(cache=True)
def _phaser(x, hz, sr, n_stages, feedback):  # noqa: ANN001, ANN202
    states = np.zeros(n_stages)
    out = np.zeros(len(x))
    last = 0.0
    for i in range(len(x)):
        w = np.tan(np.pi * hz[i] / sr)
        c = (1.0 - w) / (1.0 + w)  # H(z) = (z^-1 - c) / (1 - c z^-1)
        u = x[i] + feedback * last
        for s in range(n_stages):
            v = -c * u + states[s]
            states[s] = u + c * v
            u = v
        last = u
        out[i] = u
    return out


def phaser(x: np.ndarray, sr: int) -> np.ndarray:
    """4 all-pass stages swept 300..2500 Hz linearly in Hz by a triangle at 0.4 Hz, feedback 0.4, 30/30 mix."""
    hz = 1400.0 + 1100.0 * triangle(0.4 * np.arange(len(x)) / sr)
    return 0.3 * x + 0.3 * _phaser(np.asarray(x, np.float64), hz, float(sr), 4, 0.4)


def tremolo(x: np.ndarray, sr: int) -> np.ndarray:
    """Gain 1 - 0.6 * (a smoothed square at 4.5 Hz, 0..1)."""
    square = 0.5 + 0.5 * np.tanh(4 * np.sin(2 * np.pi * 4.5 * np.arange(len(x)) / sr))
    return x * (1 - 0.6 * square)


@numba.njit(cache=True)
def _compressor(x, sr, threshold_db, ratio, attack_ms, release_ms, makeup_db):  # noqa: ANN001, ANN202
    attack = np.exp(-1.0 / (attack_ms * 1e-3 * sr))
    release = np.exp(-1.0 / (release_ms * 1e-3 * sr))
    envelope = 0.0
    out = np.zeros(len(x))
    for i in range(len(x)):
        level = abs(x[i])
        coef = attack if level > envelope else release
        envelope = coef * envelope + (1 - coef) * level
        db = 20 * np.log10(envelope + 1e-9)
        reduction = (threshold_db - db) * (1 - 1 / ratio) if db > threshold_db else 0.0
        out[i] = x[i] * 10 ** ((reduction + makeup_db) / 20)
    return out


def compressor(x: np.ndarray, sr: int) -> np.ndarray:
    """Feed-forward, peak envelope follower (2 ms / 100 ms) on |x|, hard knee at -24 dBFS, 4:1, -3 dB out."""
    return _compressor(np.asarray(x, np.float64), float(sr), -24.0, 4.0, 2.0, 100.0, -3.0)


@numba.njit(cache=True)
def _noise_gate(x, sr, open_db, close_db, floor_db, follower_ms, attack_ms, hold_ms, release_ms):  # noqa: ANN001, ANN202
    """A classic noise gate, sample by sample: the envelope jumps up to |x| and decays with `follower_ms`; the
    gate opens when the envelope rises over `open_db` and closes once it has stayed under `close_db` for
    `hold_ms`; opening ramps the gain linearly to 1 within `attack_ms`, closing decays it towards the floor
    with the time constant `release_ms` (both in the linear domain)."""
    fall = np.exp(-1.0 / (follower_ms * 1e-3 * sr))
    open_level, close_level, floor = 10 ** (open_db / 20), 10 ** (close_db / 20), 10 ** (floor_db / 20)
    ramp = (1.0 - floor) / (attack_ms * 1e-3 * sr)
    decay = np.exp(-1.0 / (release_ms * 1e-3 * sr))
    hold = int(round(hold_ms * 1e-3 * sr))
    envelope, gain, is_open, below = 0.0, floor, False, 0
    out = np.zeros(len(x))
    for i in range(len(x)):
        level = abs(x[i])
        envelope = level if level > envelope else fall * envelope + (1 - fall) * level
        if not is_open and envelope > open_level:
            is_open, below = True, 0
        elif is_open:
            below = below + 1 if envelope < close_level else 0
            if below > hold:
                is_open = False
        gain = min(1.0, gain + ramp) if is_open else floor + decay * (gain - floor)
        out[i] = x[i] * gain
    return out


def gate(x: np.ndarray, sr: int) -> np.ndarray:
    """Noise gate: opens over -28 dBFS (peak), closes under -34 dBFS after a 40 ms hold, 1 ms linear attack,
    60 ms release towards a -60 dB floor, peak follower falling in 15 ms."""
    return _noise_gate(np.asarray(x, np.float64), float(sr), -28.0, -34.0, -60.0, 15.0, 1.0, 40.0, 60.0)


def overdrive(x: np.ndarray, sr: int) -> np.ndarray:
    """Asymmetric soft clip, then a 20 Hz DC blocker, then -12 dB."""
    bias = 0.3
    curve = np.tanh(6 * x + bias) - np.tanh(bias)
    b, a = signal.butter(1, 20.0, "highpass", fs=sr)
    return 0.25 * signal.lfilter(b, a, curve)


def echo(x: np.ndarray, sr: int) -> np.ndarray:
    """250 ms feedback echo (0.35), darkened by a 4 kHz low-pass in the loop's output, 70/30 mix."""
    d = int(0.25 * sr)
    a = np.zeros(d + 1)
    a[0], a[d] = 1.0, -0.35
    b = np.zeros(d + 1)
    b[d] = 1.0
    wet = signal.lfilter(b, a, x)
    lb, la = signal.butter(2, 4000.0, fs=sr)
    return 0.7 * x + 0.3 * signal.lfilter(lb, la, wet)


EFFECTS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "chorus": chorus, "flanger": flanger, "phaser": phaser, "compressor": compressor, "gate": gate,
    "vibrato": vibrato, "tremolo": tremolo, "overdrive": overdrive, "echo": echo,
}  # fmt: skip
#: The issue's targets (test ESR, 1 minute of data, at most 5 minutes of fitting).
TARGETS = {"chorus": 0.05, "flanger": 0.05, "phaser": 0.05, "compressor": 0.02, "gate": 0.02, "overdrive": 0.01,
           "echo": 0.01}  # fmt: skip


class ReferenceBackend:
    """A dataset-builder backend (datasets.effects.backend.EffectBackend) running one reference effect."""

    compensates_latency = True
    unchanged_hint = "the reference effect did nothing"
    clip_hint = "lower the reference effect's output"

    def __init__(self, effect: str):
        self.name, self._effect = f"reference-{effect}", EFFECTS[effect]

    def process(self, spec, inputs, work_dir):  # noqa: ANN001, ANN201
        return {k: self._effect(np.asarray(v, np.float64), spec.sample_rate).astype(np.float32)
                for k, v in inputs.items()}  # fmt: skip
