"""SegmentDataset: 4-s windows whose audio, f0, loudness and note conditioning line up; padding and masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from readdsp.datasets.cache import DatasetWriter, open_dataset, split_for_piece
from readdsp.datasets.example_features import compute_features
from readdsp.datasets.segments import SegmentDataset

SR = 16000


def tone_line(notes: list[tuple[int, float, float]], seconds: float) -> np.ndarray:
    """Harmonic tones (5 partials, short fades) for (pitch, onset, offset) notes, silence elsewhere."""
    t = np.arange(int(seconds * SR)) / SR
    audio = np.zeros_like(t)
    for pitch, onset, offset in notes:
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        inside = (t >= onset) & (t < offset)
        envelope = np.clip(np.minimum(t - onset, offset - t) / 0.01, 0, 1) * inside
        audio += envelope * sum(0.3 / k * np.sin(2 * np.pi * k * f0 * t) for k in range(1, 6))
    return audio.astype(np.float32)


def piece_in(split: str, prefix: str) -> str:
    return next(f"{prefix}{i}" for i in range(1000) if split_for_piece(f"{prefix}{i}") == split)


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("segments") / "ds"
    long_notes = [(48 + (i % 7) * 2, 0.5 + i * 0.75, 1.1 + i * 0.75) for i in range(12)]
    short_notes = [(60, 0.2, 1.0), (64, 1.2, 2.2)]
    with DatasetWriter(out, SR, ["violin", "cello"]) as writer:
        for example_id, notes, seconds, instrument in (
            ("long", long_notes, 10.0, "cello"),
            ("short", short_notes, 2.5, "violin"),
        ):
            features = compute_features(tone_line(notes, seconds), SR)
            writer.add(
                example_id,
                features.audio,
                features.f0_hz,
                features.f0_confidence,
                features.loudness_db,
                np.array([[p, on, off, 80] for p, on, off in notes], float),
                instrument,
                piece_in("train", example_id),
                "test",
            )
    return out


def test_windows_cover_each_example(dataset_dir: Path) -> None:
    data = SegmentDataset(dataset_dir, "train", segment_seconds=4.0, hop_seconds=1.0)
    starts = [(data.examples[i].id, s) for i, s in data.windows]
    assert starts == [("long", 250 * k) for k in range(7)] + [("short", 0)]
    assert len(SegmentDataset(dataset_dir, "test")) == 0


def test_window_contents_line_up(dataset_dir: Path) -> None:
    data = SegmentDataset(dataset_dir, "train")
    long_example = open_dataset(dataset_dir).load_example("long")
    item = data[3]  # "long", from 3 s to 7 s
    assert item["audio"].shape == (4 * SR,) and item["conditioning"].shape == (1000, 10)
    np.testing.assert_array_equal(item["audio"].numpy(), long_example.audio[3 * SR : 7 * SR])
    np.testing.assert_array_equal(item["loudness_db"].numpy(), long_example.loudness_db[750:1750])
    assert int(item["instrument_id"]) == 1 and item["mask"].sum() == 1000
    pitch = item["note_pitch"].numpy()
    np.testing.assert_allclose(item["conditioning"][:, 6].numpy() * 127, pitch, atol=1e-4)
    assert torch.all(item["conditioning"][:, :6] == 0)
    voiced = (pitch > 0) & (item["f0_confidence"].numpy() > 0.8)
    assert voiced.sum() > 400
    cents = 1200 * np.log2(item["f0_hz"].numpy()[voiced] / (440 * 2 ** ((pitch[voiced] - 69) / 12)))
    assert np.mean(np.abs(cents) < 50) > 0.95
    # Notes are indexed from 0 within the window: global note 3 (2.75-3.35 s) is cut by the window and is
    # local 0, without an onset flag; the note starting at 3.5 s is local 1.
    index = item["note_index"].numpy()
    assert index[10] == 0 and index[135] == 1 and index.max() == 5 and index[pitch == 0].max() == -1
    onsets = np.flatnonzero(item["conditioning"][:, 7].numpy())
    np.testing.assert_array_equal(onsets, [int((0.5 + i * 0.75) * 250 + 0.5) - 750 for i in range(4, 9)])
    loud = item["loudness_db"].numpy()
    assert loud[pitch > 0].mean() > loud[pitch == 0].mean() + 20


def test_short_examples_are_padded_and_masked(dataset_dir: Path) -> None:
    data = SegmentDataset(dataset_dir, "train")
    item = data[len(data) - 1]
    mask = item["mask"].numpy()
    assert mask.sum() == 625 and mask[:625].all()
    assert torch.all(item["audio"][625 * SR // 250 :] == 0)
    assert torch.all(item["loudness_db"][625:] == -80.0)
    assert torch.all(item["note_index"][625:] == -1) and torch.all(item["note_pitch"][625:] == 0)
    assert int(item["instrument_id"]) == 0 and item["note_index"].max() == 1


def test_batches_collate(dataset_dir: Path) -> None:
    batch = next(iter(DataLoader(SegmentDataset(dataset_dir, "train"), batch_size=3, shuffle=False)))
    assert batch["audio"].shape == (3, 4 * SR) and batch["conditioning"].shape == (3, 1000, 10)
    assert batch["instrument_id"].tolist() == [1, 1, 1]
    assert batch["start_frame"].tolist() == [0, 250, 500]
