"""Train the performance model (velocity, duration, timing and pitch LSTMs) on CPU, resumable, and export a bundle."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from readdsp.core.bundle import save_bundle
from readdsp.core.performance_model import (
    DURATION_CLASSES,
    FAMILY,
    PerformanceModel,
    articulation_bins,
    build_networks,
    class_of,
    metrical_inputs,
    timing_bins,
    velocity_bins,
)
from readdsp.core.score_features import score_features
from readdsp.training.distributed import DistContext
from readdsp.training.loop import LoopConfig, run_loop, total_wall_time
from readdsp.training.performance_data import PerformedPiece, split_for
from readdsp.training.performance_eval import calibrate_temperature

log = logging.getLogger(__name__)
WINDOW = 128


@dataclass
class EncodedPiece:
    """A piece's network inputs and class targets (-100 where the human data says nothing)."""

    features: np.ndarray
    velocity: np.ndarray  # float 1..127 (NaN unknown): the duration and timing networks' input
    velocity_class: np.ndarray
    articulation_class: np.ndarray
    timing_class: np.ndarray


def encode(piece: PerformedPiece) -> EncodedPiece:
    """Features and class targets of one piece."""
    return EncodedPiece(
        score_features(piece.notes),
        piece.velocity,
        class_of(velocity_offset(piece.velocity), velocity_bins()),
        class_of(piece.log_articulation, articulation_bins()),
        class_of(piece.deviation, timing_bins()),
    )


def velocity_offset(velocity: np.ndarray) -> np.ndarray:
    """Each note's velocity minus its performance's mean (NaN stays NaN): the velocity network's target."""
    known = ~np.isnan(velocity)
    return velocity - (velocity[known].mean() if known.any() else 0.0)


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """Cross-entropy against a Gaussian over neighbouring classes (ordinal targets); -100 targets are ignored."""
    mask = target >= 0
    if not mask.any():
        return logits.sum() * 0.0
    logits, target = logits[mask], target[mask]
    classes = torch.arange(logits.shape[-1], dtype=torch.float32)
    soft = torch.softmax(-((classes[None] - target[:, None].float()) ** 2) / (2 * sigma**2), dim=-1)
    return -(soft * F.log_softmax(logits, -1)).sum(-1).mean()


def sample_windows(pieces: list[EncodedPiece], weights: np.ndarray, rng: np.random.Generator, batch: int):
    """A batch of WINDOW-note windows, pieces drawn by `weights`: features, velocity input, three target arrays."""
    rows = []
    for index in rng.choice(len(pieces), size=batch, p=weights):
        piece = pieces[index]
        start = int(rng.integers(0, max(len(piece.features) - WINDOW, 0) + 1))
        end = start + WINDOW
        rows.append(
            [
                _pad(piece.features[start:end], 0.0),
                _pad(np.nan_to_num(piece.velocity[start:end], nan=64.0) / 127.0, 0.0),
                _pad(piece.velocity_class[start:end], -100),
                _pad(piece.articulation_class[start:end], -100),
                _pad(piece.timing_class[start:end], -100),
            ]
        )
    columns = list(zip(*rows, strict=True))
    feats = torch.from_numpy(np.stack(columns[0]).astype(np.float32))
    vel = torch.from_numpy(np.stack(columns[1]).astype(np.float32))[..., None]
    return feats, vel, *(torch.from_numpy(np.stack(c).astype(np.int64)) for c in columns[2:])


def _pad(values: np.ndarray, fill) -> np.ndarray:
    if len(values) >= WINDOW:
        return values
    shape = (WINDOW - len(values), *values.shape[1:])
    return np.concatenate([values, np.full(shape, fill, dtype=values.dtype)])


def pitch_batch(lines: list[tuple[np.ndarray, np.ndarray, np.ndarray]], rng: np.random.Generator, batch: int = 32):
    """Windows of 64 notes from melodic lines (pitch, duration class, bar phase), with a random transposition."""
    length = 64
    pitch, duration, phase = [], [], []
    for index in rng.integers(0, len(lines), batch):
        p, d, b = lines[index]
        start = int(rng.integers(0, max(len(p) - length - 1, 0) + 1))
        shift = int(rng.integers(-5, 7))
        sl = slice(start, start + length + 1)
        pitch.append(_pad_to(np.clip(p[sl] + shift, 0, 127), length + 1, 0))
        duration.append(_pad_to(d[sl], length + 1, -100))
        phase.append(_pad_to(b[sl], length + 1, 0.0))
    return (torch.from_numpy(np.stack(a)) for a in (pitch, duration, phase))


def _pad_to(values: np.ndarray, length: int, fill) -> np.ndarray:
    return np.concatenate([values, np.full(length - len(values), fill, dtype=values.dtype)])


def bach_lines(max_pieces: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(pitch, duration class, bar phase) of each voice of up to `max_pieces` Bach chorales (4/4 assumed)."""
    from readdsp.datasets.note_sources import bach_pieces

    lines = []
    for count, piece in enumerate(bach_pieces(seed=0)):
        if count >= max_pieces:
            break
        if split_for(piece[0].piece_id) != "train":
            continue
        for line in piece:
            gaps = np.diff(line.starts, append=line.starts[-1] + line.durations[-1])
            lines.append(
                (
                    line.pitches.astype(np.int64),
                    np.abs(np.array(DURATION_CLASSES)[None] - gaps[:, None]).argmin(1).astype(np.int64),
                    ((line.starts % 4.0) / 4.0).astype(np.float32),
                )
            )
    return lines


def train_performance(
    pieces: list[PerformedPiece],
    lines: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    run_dir: Path,
    out: Path,
    steps: int,
    time_budget_s: float | None,
    hidden: int = 64,
    seed: int = 0,
    jazz_weight: float = 0.2,
) -> dict:
    """Train all four networks on the train split (best validation checkpoint kept) and write the bundle."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train = [p for p in pieces if split_for(p.piece_id) == "train"]
    encoded = [encode(p) for p in train]
    weights = np.array([len(p.notes) ** 0.5 * (jazz_weight if p.source == "jazz" else 1.0) for p in train])
    weights /= weights.sum()
    networks = build_networks(hidden)
    params = [p for net in networks.values() for p in net.parameters()]
    optimizer = torch.optim.Adam(params, lr=2e-3)
    validation = [encode(p) for p in pieces if split_for(p.piece_id) == "validation" and p.source != "jazz"]

    def step(index: int) -> dict[str, float]:
        feats, vel, vel_c, art_c, tim_c = sample_windows(encoded, weights, rng, 32)
        conditioned = torch.cat([feats, vel + 0.02 * torch.randn_like(vel)], dim=-1)
        losses = {
            "velocity": soft_cross_entropy(networks["velocity"](feats), vel_c),
            "duration": soft_cross_entropy(networks["duration"](conditioned), art_c),
            "timing": soft_cross_entropy(networks["timing"](conditioned), tim_c),
        }
        pitch, duration, phase = pitch_batch(lines, rng)
        p_logits, d_logits, _ = networks["pitch"](
            pitch[:, :-1], duration[:, :-1].clamp(min=0), metrical_inputs(phase[:, :-1])
        )
        losses["pitch"] = F.cross_entropy(p_logits.reshape(-1, 128), pitch[:, 1:].reshape(-1)) + F.cross_entropy(
            d_logits.reshape(-1, len(DURATION_CLASSES)), duration[:, 1:].reshape(-1), ignore_index=-100
        )
        for group in optimizer.param_groups:  # linear decay to a tenth
            group["lr"] = 2e-3 * max(0.1, 1.0 - index / steps)
        optimizer.zero_grad()
        sum(losses.values()).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        return {k: float(v.detach()) for k, v in losses.items()}

    def validate() -> float:
        with torch.no_grad():
            total = 0.0
            for piece in validation:
                x = torch.from_numpy(piece.features)[None]
                v = torch.from_numpy(np.nan_to_num(piece.velocity, nan=64.0).astype(np.float32) / 127)[None, :, None]
                total += float(soft_cross_entropy(networks["velocity"](x)[0], torch.from_numpy(piece.velocity_class)))
                xv = torch.cat([x, v], -1)
                total += float(
                    soft_cross_entropy(networks["duration"](xv)[0], torch.from_numpy(piece.articulation_class))
                )
            return total / max(len(validation), 1)

    began = time.monotonic()
    result = run_loop(
        "performance",
        run_dir,
        networks,
        {"adam": optimizer},
        step,
        LoopConfig(steps=steps, checkpoint_every=200, log_every=50, time_budget_s=time_budget_s),
        DistContext(),
        validate=validate,
    )
    from readdsp.training.checkpoint import load_best

    best_step = load_best(run_dir, networks)
    config = {
        "model": FAMILY,
        "name": out.stem,
        "hidden": hidden,
        "copula_rho": 0.6,
        "velocity_mean": round(float(np.nanmean(np.concatenate([p.velocity for p in train]))), 2),
        "steps": result.end_step,
        "best_step": best_step,
        "train_time_s": round(total_wall_time(run_dir, time.monotonic() - began), 1),
        "train_pieces": sorted({p.piece_id for p in train if p.source != "jazz"}),
        "sources": sorted({p.source for p in train}),
    }
    held = [p for p in pieces if split_for(p.piece_id) == "validation" and p.source != "jazz"]
    config["temperature"] = calibrate_temperature(PerformanceModel(config, networks), held)
    save_bundle(out, config, networks)
    return config
