"""Fit the phaser model: a frame-wise break-frequency track (all-pass response per STFT frame, after Carson
et al.'s frame-based view) -> periodic LFO -> LM on the audio."""

from __future__ import annotations

import numpy as np
from scipy import signal

from readdsp.core.effects.lfo import Lfo
from readdsp.core.effects.phaser import PhaserModel
from readdsp.training.effects.grey_box import FitFailed, fit_over_spans, mix
from readdsp.training.effects.periodic_fit import fit_periodic

STAGE_CHOICES = (2, 4, 6, 8, 10, 12)
N_FREQUENCIES = 96
LOWEST_HZ = 30.0
FRAME = 2048
HOP = 512
HARMONICS = 6
#: A frame counts when its best break frequency leaves under this share of the target's energy unexplained.
MAX_FRAME_ERROR = 0.3
FEEDBACK_LIMIT = 0.95


def _allpass_responses(sr: int, n_stages: int, frequencies: np.ndarray) -> np.ndarray:
    """[len(frequencies), FRAME // 2 + 1] responses of n first-order all-passes with those break frequencies."""
    t = np.tan(np.pi * frequencies / sr)
    a = ((t - 1) / (t + 1))[:, None]
    z1 = np.exp(-1j * np.pi * np.arange(FRAME // 2 + 1) / (FRAME // 2))[None, :]
    return ((a + z1) / (1 + a * z1)) ** n_stages


def measured_break_frequency(x: np.ndarray, y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(times s, log2 break frequency, stages): per frame, the dry + wet * all-pass response that best maps
    the input's spectrum to the target's, for the stage count that explains the most frames best."""
    _, times, spec_x = signal.stft(x, sr, nperseg=FRAME, noverlap=FRAME - HOP, boundary=None, padded=False)
    _, _, spec_y = signal.stft(y, sr, nperseg=FRAME, noverlap=FRAME - HOP, boundary=None, padded=False)
    power, cross = (np.abs(spec_x) ** 2).T, (np.conj(spec_x) * spec_y).T
    energy_y = (np.abs(spec_y) ** 2).sum(axis=0)
    s_xx, s_xy = power.sum(axis=1, keepdims=True), cross.real.sum(axis=1, keepdims=True)
    audible = s_xx[:, 0] > 1e-6 * max(float(np.median(s_xx)), 1e-20)
    frequencies = np.geomspace(LOWEST_HZ, 0.45 * sr, N_FREQUENCIES)
    best: tuple[float, np.ndarray, np.ndarray, int] = (np.inf, np.zeros(0), np.zeros(0), 0)
    for n_stages in STAGE_CHOICES:
        g = _allpass_responses(sr, n_stages, frequencies)
        s_xw = power @ g.real.T  # [frames, frequencies]; |g| = 1, so s_ww = s_xx
        s_wy = (cross @ np.conj(g).T).real
        det = np.maximum(s_xx * s_xx - s_xw**2, 1e-20)
        explained = (s_xx * s_xy**2 - 2 * s_xw * s_xy * s_wy + s_xx * s_wy**2) / det
        error = 1.0 - explained / np.maximum(energy_y[:, None], 1e-20)
        choice = np.argmin(error, axis=1)
        frame_error = error[np.arange(len(choice)), choice]
        good = audible & (frame_error < MAX_FRAME_ERROR) & (frame_error < 0.5 * np.median(error, axis=1))
        total = float(np.sum(np.where(audible, np.minimum(frame_error, 1.0), 0.0)))
        if good.sum() >= 16 and total < best[0]:
            best = (total, times[good], np.log2(frequencies[choice[good]]), n_stages)
    if best[3] == 0:
        raise FitFailed("no frames where an all-pass cascade explains the target")
    return best[1], best[2], best[3]


def fit_phaser(x: np.ndarray, y: np.ndarray, sr: int, max_seconds: float) -> PhaserModel:
    """Break-frequency LFO and stage count from the frame track, then LFO, feedback and mix on the audio."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    times, log2_hz, n_stages = measured_break_frequency(x, y, sr)
    rate, coefficients = fit_periodic(times, log2_hz, HARMONICS)
    theta = np.concatenate([[rate], coefficients, [0.0]])

    def chain(v: np.ndarray, xs: np.ndarray) -> np.ndarray:
        return PhaserModel(sr, Lfo(v[0], v[1:-1], sr), n_stages, float(v[-1]), 0.0, 1.0).chain(xs)

    def residual_for(xs: np.ndarray, ys: np.ndarray):  # noqa: ANN202
        def residual(v: np.ndarray) -> np.ndarray:
            w = chain(v, xs)
            dry, wet = mix(xs, w, ys)
            return dry * xs + wet * w - ys

        return residual

    def steps_for(span: float) -> np.ndarray:
        return np.concatenate([[1e-3 / span], np.full(len(coefficients), 1e-3), [1e-3]])

    lower = np.concatenate([[1e-3], np.full(len(coefficients), -np.inf), [-FEEDBACK_LIMIT]])
    upper = np.concatenate([[50.0], np.full(len(coefficients), np.inf), [FEEDBACK_LIMIT]])
    theta = fit_over_spans(residual_for, x, y, sr, theta, steps_for, max_seconds, lower, upper)
    dry, wet = mix(x, chain(theta, x), y)
    return PhaserModel(sr, Lfo(theta[0], theta[1:-1], sr), n_stages, float(theta[-1]), dry, wet)
