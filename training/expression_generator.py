"""Train the Expression Generator on note sequences with their extracted expression (MSE, transpose/stretch aug)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from readdsp.core.models.expression_generator import (
    ExpressionGenerator,
    ExpressionGeneratorConfig,
    notes_with_rests,
)
from readdsp.core.performance import N_CONTROLS
from readdsp.datasets.cache import open_dataset
from readdsp.training.data import Annotation
from readdsp.training.distributed import DistContext, unwrap, wrap_ddp
from readdsp.training.loop import LoopConfig, LoopResult, decay_learning_rate, run_loop

STRETCHES = (0.9, 0.95, 1.0, 1.05, 1.1)


@dataclass
class NoteSequence:
    """One example as the generator sees it: pitch (0 = rest), length in seconds, target controls."""

    pitch: np.ndarray
    length_s: np.ndarray
    velocity: np.ndarray
    target: np.ndarray  # [N, 6], zeros on rests
    instrument_id: int


@dataclass
class ExpressionGeneratorTrainConfig:
    """Hyper-parameters (the paper: batch 256 windows of 64 notes, Adam 1e-4, clip 1.0)."""

    batch_size: int = 64
    window_notes: int = 64
    #: Share of the rows cut to a short window (1 to `window_notes` notes, log-uniform). With full windows only,
    #: the generator never saw a line of a few notes: a lone clarinet note of 0.5-8 s got vibrato 0.16-0.41, where
    #: the clarinet's corpus lines have 0.03 and the same generator gave a clarinet phrase 0.03. With a quarter of
    #: the rows short, 0.02-0.30 (docs/training.md).
    short_window_share: float = 0.25
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    transpose: int = 3
    seed: int = 0


def load_sequences(dataset_dir: Path, annotations_dir: Path, split: str) -> list[NoteSequence]:
    """Note sequences (with rests) and their extracted expression, for one split."""
    dataset = open_dataset(dataset_dir)
    out = []
    for example in dataset.iter_examples(split):
        expression = Annotation.load(annotations_dir / f"{example.id}.npz").expression
        seq = notes_with_rests(example.note_list())
        index = seq["index"]
        target = np.zeros((len(index), N_CONTROLS), np.float32)
        target[index >= 0] = np.clip(expression[index[index >= 0]], 0.0, 1.0)
        instrument_id = dataset.instrument_id(example.instrument)
        out.append(NoteSequence(seq["pitch"], seq["length_s"], seq["velocity"], target, instrument_id))
    return out


@torch.no_grad()
def expression_errors(model: ExpressionGenerator, sequences: list[NoteSequence], teacher_forced: bool) -> np.ndarray:
    """Predicted minus target controls [n_notes, 6] over whole sequences (rests left out).

    Teacher-forced, each note is predicted from the true controls of the notes before it: the paper's protocol
    (Table 1c). Otherwise the generator runs free on its own outputs, as at inference.
    """
    model.eval()
    errors = []
    for seq in sequences:
        pitch, length, velocity = (torch.from_numpy(x)[None] for x in (seq.pitch, seq.length_s, seq.velocity))
        inst = torch.tensor([seq.instrument_id])
        if teacher_forced:
            predicted = model(pitch, length, velocity, inst, torch.from_numpy(seq.target)[None]).clamp(0.0, 1.0)
        else:
            predicted = model.generate(pitch, length, velocity, inst)
        notes = seq.pitch > 0
        errors.append(predicted[0].numpy()[notes] - seq.target[notes])
    return np.concatenate(errors)


def short_window(window: int, rng: np.random.Generator) -> int:
    """A window length from 1 to `window` notes, log-uniform, so lines of one to a few notes are common."""
    return int(np.clip(round(np.exp(rng.uniform(0.0, np.log(window)))), 1, window))


def sequence_batch(
    sequences: list[NoteSequence],
    batch_size: int,
    window: int,
    rng: np.random.Generator,
    augment: bool = True,
    transpose: int = 3,
    short_share: float = 0.0,
) -> dict[str, torch.Tensor]:
    """Random windows of `window` notes, zero-padded, with optional transpose and time-stretch augmentation;
    `short_share` of the rows hold a shorter window, 1 to `window` notes (log-uniform)."""
    pitch = np.zeros((batch_size, window), np.int64)
    length = np.zeros((batch_size, window), np.float32)
    velocity = np.zeros((batch_size, window), np.float32)
    target = np.zeros((batch_size, window, N_CONTROLS), np.float32)
    mask = np.zeros((batch_size, window), bool)
    inst = np.zeros(batch_size, np.int64)
    for row, i in enumerate(rng.integers(0, len(sequences), batch_size)):
        seq = sequences[i]
        notes = short_window(window, rng) if rng.random() < short_share else window
        start = int(rng.integers(0, max(len(seq.pitch) - notes, 0) + 1))
        stop = min(start + notes, len(seq.pitch))
        n = stop - start
        shift = int(rng.integers(-transpose, transpose + 1)) if augment else 0
        stretch = float(rng.choice(STRETCHES)) if augment else 1.0
        p = seq.pitch[start:stop]
        pitch[row, :n] = np.where(p > 0, np.clip(p + shift, 1, 127), 0)
        length[row, :n] = seq.length_s[start:stop] * stretch
        velocity[row, :n] = seq.velocity[start:stop]
        target[row, :n] = seq.target[start:stop]
        mask[row, :n] = True
        inst[row] = seq.instrument_id
    return {
        "pitch": torch.from_numpy(pitch),
        "length_s": torch.from_numpy(length),
        "velocity": torch.from_numpy(velocity),
        "target": torch.from_numpy(target),
        "mask": torch.from_numpy(mask),
        "instrument_id": torch.from_numpy(inst),
    }


def train_expression_generator(
    dataset_dir: Path,
    annotations_dir: Path,
    run_dir: Path,
    loop: LoopConfig,
    train: ExpressionGeneratorTrainConfig,
    ctx: DistContext,
    model_config: ExpressionGeneratorConfig | None = None,
) -> tuple[ExpressionGenerator, LoopResult]:
    """Fit the Expression Generator with teacher forcing and MSE on note frames."""
    torch.manual_seed(train.seed)
    model = ExpressionGenerator(model_config or ExpressionGeneratorConfig()).to(ctx.device)
    model_ddp = wrap_ddp(model, ctx)
    optimizer = torch.optim.AdamW(model.parameters(), lr=train.learning_rate, weight_decay=train.weight_decay)
    sequences = load_sequences(dataset_dir, annotations_dir, "train")
    held_out = load_sequences(dataset_dir, annotations_dir, "validation")
    rng = np.random.default_rng(train.seed + 1000 * ctx.rank)

    def step(step_index: int) -> dict[str, float]:
        decay_learning_rate(optimizer, train.learning_rate, step_index)
        b = sequence_batch(
            sequences,
            train.batch_size,
            train.window_notes,
            rng,
            transpose=train.transpose,
            short_share=train.short_window_share,
        )
        pred = model_ddp(b["pitch"], b["length_s"], b["velocity"], b["instrument_id"], b["target"])
        mask = b["mask"].unsqueeze(-1).float()
        loss = (((pred - b["target"]) ** 2) * mask).sum() / (mask.sum() * N_CONTROLS).clamp(min=1.0)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), train.grad_clip)
        optimizer.step()
        return {"mse": loss.item()}

    def validation_rmse() -> float:
        return float(np.sqrt(np.mean(expression_errors(model, held_out, teacher_forced=True) ** 2)))

    result = run_loop(
        "expression-generator",
        run_dir,
        {"expression_generator": model},
        {"adam": optimizer},
        step,
        loop,
        ctx,
        validate=validation_rmse if held_out else None,
    )
    return unwrap(model_ddp), result
