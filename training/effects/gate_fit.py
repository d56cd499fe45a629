"""Fit the gate model: the static curve from steady frames, a grid of time constants, then LM on the audio and
on the frames' gains in dB (where a gate's work lies: quiet audio that the audio's squared error hardly sees)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import numpy as np

from readdsp.core.effects.compressor import one_pole
from readdsp.core.effects.gate import GateModel, GateParams, detector_levels
from readdsp.training.effects.grey_box import MAX_RESIDUAL, FitFailed, fit_over_spans
from readdsp.training.effects.lm import levenberg_marquardt

START_SECONDS = 12.0
FRAME_SECONDS = 0.01
#: A frame is steady when its level is within this of both neighbours' (the gain has settled there).
STEADY_DB = 1.5
RATIOS = (1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 100.0)
RANGES_DB = tuple(float(r) for r in range(6, 97, 6))
#: (opening threshold, hysteresis) starts around the static curve's threshold, which lies between the two.
THRESHOLD_STARTS_DB = ((-3.0, 0.0), (0.0, 0.0), (3.0, 0.0), (3.0, 6.0), (6.0, 12.0))
#: Detector (attack, release) starts: a peak follower, and a mean square.
DETECTORS_MS = ((0.05, 10.0), (5.0, 5.0))
ATTACKS_MS = (0.3, 3.0)
HOLDS_MS = (5.0, 50.0)
RELEASES_MS = (20.0, 150.0)
#: Hysteresis values (dB) tried with the closing threshold held, after the first LM.
HYSTERESIS_SCAN_DB = tuple(float(h) for h in range(0, 25))
#: Share of the budget for the LM on growing spans; the rest goes to the LM after the scan.
FIRST_SHARE = 0.6
#: Weight of the level term: the objective is ESR + LEVEL_WEIGHT * mean((frame gain error dB / 20)^2), so a
#: gate left open by 40 dB on 5 % of the frames costs as much as an ESR of 0.02.
LEVEL_WEIGHT = 0.1
#: Frame gains are measured down to this far below the input (dB): deeper floors all look alike.
GAIN_FLOOR_DB = -80.0


def _params(v: np.ndarray) -> GateParams:
    """theta = [log detector attack ms, log detector release ms, threshold dB, hysteresis dB, log(ratio - 1),
    log knee dB, range dB, log attack ms, log hold ms, log release ms, makeup dB]: logs keep times, knee and
    ratio in range."""
    e = np.exp(v)
    return GateParams(float(e[0]), float(e[1]), float(v[2]), float(v[3]), 1.0 + float(e[4]), float(e[5]),
                      float(v[6]), float(e[7]), float(e[8]), float(e[9]), float(v[10]))  # fmt: skip


def _theta(p: GateParams) -> np.ndarray:
    logs = np.log([p.detector_attack_ms, p.detector_release_ms, p.ratio - 1.0, p.knee_db, p.attack_ms, p.hold_ms,
                   p.release_ms])  # fmt: skip
    return np.array([*logs[:2], p.threshold_db, p.hysteresis_db, *logs[2:4], p.range_db, *logs[4:], p.makeup_db])


def frame_power(audio: np.ndarray, sr: int) -> np.ndarray:
    """Mean square of each whole 10 ms frame."""
    frame = max(1, int(FRAME_SECONDS * sr))
    n = len(audio) // frame * frame
    return (audio[:n] ** 2).reshape(-1, frame).mean(axis=1)


def frame_levels(x: np.ndarray, y: np.ndarray, sr: int, detector_ms: tuple[float, float]) -> tuple[np.ndarray, ...]:
    """(detector level dB, gain dB) of the steady, audible 10 ms frames; the level is the frame's mean of the
    detector with these (attack, release) times, so the static curve's threshold is in the detector's units."""
    ex, ey = frame_power(x, sr), frame_power(y, sr)
    rise, fall = (one_pole(ms, sr) for ms in detector_ms)
    frame = max(1, int(FRAME_SECONDS * sr))
    detected = detector_levels(x, rise, fall)[: len(ex) * frame].reshape(-1, frame).mean(axis=1)
    lx, ld = 10 * np.log10(ex + 1e-20), 10 * np.log10(detected + 1e-20)
    steady = np.zeros(len(lx), bool)
    steady[1:-1] = (np.abs(lx[1:-1] - lx[:-2]) < STEADY_DB) & (np.abs(lx[1:-1] - lx[2:]) < STEADY_DB)
    keep = steady & (lx > (np.max(lx) if len(lx) else 0.0) - 90.0) & (ey > 0)
    return ld[keep], 10 * np.log10(ey[keep]) - lx[keep]


def static_start(level_db: np.ndarray, gain_db: np.ndarray) -> tuple[float, float, float, float]:
    """(threshold, ratio, range, makeup) of the hard-knee expander curve nearest the frames' gains (L1: frames
    caught mid-attack or mid-release are outliers, not noise)."""
    makeup = float(np.median(gain_db[level_db >= np.percentile(level_db, 80)]))
    reduction = gain_db - makeup
    thresholds = np.arange(np.floor(np.min(level_db)), np.ceil(np.max(level_db)) + 1.0)
    over = level_db[None, :] - thresholds[:, None]
    best = (np.inf, 0.0, 2.0, 6.0)
    for ratio, range_db in itertools.product(RATIOS, RANGES_DB):
        curve = np.maximum(np.minimum((ratio - 1.0) * over, 0.0), -range_db)
        cost = np.abs(curve - reduction[None, :]).sum(axis=1)
        i = int(np.argmin(cost))
        if cost[i] < best[0]:
            best = (float(cost[i]), float(thresholds[i]), ratio, range_db)
    return best[1], best[2], best[3], makeup


Residual = Callable[[np.ndarray], np.ndarray]


def gate_residual(xs: np.ndarray, ys: np.ndarray, sr: int) -> Residual:
    """theta -> the audio error / ||y|| beside the frame gain error (dB / 20) * sqrt(LEVEL_WEIGHT / frames)."""
    ex = frame_power(xs, sr)
    audible = ex > np.max(ex, initial=0.0) * 10 ** (-90 / 10)
    floor = ex[audible] * 10 ** (GAIN_FLOOR_DB / 10)
    target_db = 10 * np.log10(frame_power(ys, sr)[audible] + floor)
    audio_scale = 1 / np.sqrt(max(float(ys @ ys), 1e-30))
    level_scale = np.sqrt(LEVEL_WEIGHT / max(len(floor), 1)) / 20

    def residual(v: np.ndarray) -> np.ndarray:
        out = GateModel(sr, _params(v))._process(xs)
        level_db = 10 * np.log10(frame_power(out, sr)[audible] + floor)
        return np.concatenate([(out - ys) * audio_scale, (level_db - target_db) * level_scale])

    return residual


def _cost(residual: Residual, theta: np.ndarray) -> float:
    return float(np.sum(residual(theta) ** 2))


def scan_hysteresis(residual: Residual, theta: np.ndarray) -> np.ndarray:
    """The opening threshold by a scan, the closing one (threshold - hysteresis) held: whether a note opens the
    gate is a step in the threshold that the LM's differences do not see."""
    closing = theta[2] - theta[3]
    trials = [np.concatenate([theta[:2], [closing + h, h], theta[4:]]) for h in HYSTERESIS_SCAN_DB]
    return min([theta, *trials], key=lambda v: _cost(residual, v))


def fit_gate(x: np.ndarray, y: np.ndarray, sr: int, max_seconds: float) -> GateModel:
    """Threshold, hysteresis, ratio, knee, range, detector, attack, hold, release and makeup: from the static
    curve of the steady frames and the best of a grid of time constants, by least squares on the audio and the
    frames' gains (LM on growing spans), the opening threshold scanned, then LM again on the whole signal."""
    start = time.monotonic()
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    starts = []
    for detector in DETECTORS_MS:
        level_db, gain_db = frame_levels(x, y, sr, detector)
        if len(level_db) < 32:
            raise FitFailed("too few steady, audible frames to measure a gain curve")
        threshold, ratio, range_db, makeup = static_start(level_db, gain_db)
        starts += [GateParams(*detector, threshold + o, hysteresis, ratio, 1.0, range_db, a, h, r, makeup)
                   for (o, hysteresis), a, h, r in itertools.product(THRESHOLD_STARTS_DB, ATTACKS_MS, HOLDS_MS,
                                                                     RELEASES_MS)]  # fmt: skip
    head = int(START_SECONDS * sr)
    start_residual = gate_residual(x[:head], y[:head], sr)
    theta = min((_theta(p) for p in starts), key=lambda v: _cost(start_residual, v))
    steps = np.array([*[1e-3] * 10, 1e-4])
    short, long = np.log(0.01), np.log(5000.0)
    lower = np.array([short, short, -150.0, 0.0, np.log(1e-3), np.log(0.01), 0.0, short, short, short, -60.0])
    upper = np.array([long, long, 0.0, 40.0, np.log(999.0), np.log(60.0), 120.0, long, long, long, 60.0])

    def residual_for(xs: np.ndarray, ys: np.ndarray) -> Residual:
        return gate_residual(xs, ys, sr)

    theta = fit_over_spans(residual_for, x, y, sr, theta, lambda _: steps, FIRST_SHARE * max_seconds, lower, upper)
    full = gate_residual(x, y, sr)
    theta = scan_hysteresis(full, theta)
    step = 2 if len(x) > MAX_RESIDUAL else 1
    left = max(max_seconds - (time.monotonic() - start), 1.0)
    theta = levenberg_marquardt(lambda v: full(v)[::step], theta, steps, left, lower=lower, upper=upper)
    return GateModel(sr, _params(theta))
