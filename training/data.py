"""Training batches: random 4-s crops of cached examples, with note conditioning and (optionally) annotations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from readdsp.core.note_frames import FRAME_RATE, held_pitch, notes_to_frames
from readdsp.datasets.cache import Example, open_dataset


@dataclass
class Annotation:
    """DDSP Inference's output for one example: scaled synthesis parameters and the extracted expression."""

    amplitude: np.ndarray  # [T]
    harmonic_distribution: np.ndarray  # [T, K]
    noise_magnitudes: np.ndarray  # [T, N]
    expression: np.ndarray  # [n_notes, 6]

    def save(self, path: Path) -> None:
        from readdsp.core.atomic import atomic_path

        with atomic_path(path, ".npz") as tmp:
            with open(tmp, "wb") as handle:
                np.savez(
                    handle,
                    amplitude=self.amplitude.astype(np.float32),
                    harmonic_distribution=self.harmonic_distribution.astype(np.float16),
                    noise_magnitudes=self.noise_magnitudes.astype(np.float16),
                    expression=self.expression.astype(np.float32),
                )

    @classmethod
    def load(cls, path: Path) -> Annotation:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                data["amplitude"],
                data["harmonic_distribution"].astype(np.float32),
                data["noise_magnitudes"].astype(np.float32),
                data["expression"],
            )


@dataclass
class PreparedExample:
    """An example with its frame conditioning laid out once."""

    example: Example
    instrument_id: int
    conditioning: np.ndarray  # [T, 10]
    base_pitch: np.ndarray  # [T] note pitch, held through rests
    in_note: np.ndarray  # [T] bool
    annotation: Annotation | None = None


def prepare(example: Example, instrument_id: int, annotation: Annotation | None = None) -> PreparedExample:
    """Frame conditioning for a whole example (expression from the annotation when given, else zeros)."""
    notes = example.note_list()
    n_frames = len(example.f0_hz)
    expression = annotation.expression if annotation is not None else np.zeros((len(notes), 6))
    frames = notes_to_frames(notes, n_frames, FRAME_RATE, expression=expression)
    return PreparedExample(
        example, instrument_id, frames.stacked(), held_pitch(frames.pitch), frames.pitch > 0, annotation
    )


def load_prepared(dataset_dir: Path, split: str, annotations_dir: Path | None = None) -> list[PreparedExample]:
    """All examples of a split, prepared; with annotations when `annotations_dir` is given."""
    dataset = open_dataset(dataset_dir)
    out = []
    for example in dataset.iter_examples(split):
        annotation = Annotation.load(annotations_dir / f"{example.id}.npz") if annotations_dir else None
        out.append(prepare(example, dataset.instrument_id(example.instrument), annotation))
    return out


def crop_batch(
    examples: list[PreparedExample], batch_size: int, segment_frames: int, rng: np.random.Generator
) -> dict[str, torch.Tensor]:
    """A batch of random crops (zero-padded when an example is shorter than the segment)."""
    sr = examples[0].example.sample_rate
    hop = sr // FRAME_RATE
    weights = np.array([max(len(e.base_pitch), 1) for e in examples], float)
    picks = rng.choice(len(examples), size=batch_size, p=weights / weights.sum())
    batch: dict[str, list[np.ndarray]] = {}
    for i in picks:
        prepared = examples[i]
        ex = prepared.example
        n_frames = len(ex.f0_hz)
        start = int(rng.integers(0, max(n_frames - segment_frames, 0) + 1))
        stop = min(start + segment_frames, n_frames)
        pad = segment_frames - (stop - start)

        def cut(x: np.ndarray, pad: int = pad, start: int = start, stop: int = stop) -> np.ndarray:
            x = x[start:stop]
            return np.pad(x, [(0, pad)] + [(0, 0)] * (x.ndim - 1)) if pad else x

        audio = ex.audio[start * hop : stop * hop]
        audio = np.pad(audio, (0, segment_frames * hop - len(audio)))
        item = {
            "audio": audio,
            "f0_hz": np.maximum(cut(ex.f0_hz), 1.0),
            "loudness_db": np.where(np.arange(segment_frames) < stop - start, cut(ex.loudness_db), -80.0),
            "conditioning": cut(prepared.conditioning),
            "base_pitch": np.where(np.arange(segment_frames) < stop - start, cut(prepared.base_pitch), 60.0),
            "in_note": cut(prepared.in_note),
            "mask": np.arange(segment_frames) < stop - start,
            "instrument_id": np.int64(prepared.instrument_id),
        }
        if prepared.annotation is not None:
            a = prepared.annotation
            item["amplitude"] = cut(a.amplitude)
            item["harmonic_distribution"] = cut(a.harmonic_distribution)
            item["noise_magnitudes"] = cut(a.noise_magnitudes)
        for key, value in item.items():
            batch.setdefault(key, []).append(np.asarray(value))
    return {k: torch.from_numpy(np.stack(v)) for k, v in batch.items()}
