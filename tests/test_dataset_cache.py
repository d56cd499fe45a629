"""The cached dataset format: split assignment, atomic writing, round trips and clear errors on damage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.cache import (
    SPLITS,
    DatasetWriter,
    iter_examples,
    load_example,
    open_dataset,
    split_for_piece,
)

SR = 16000


def add_example(writer: DatasetWriter, example_id: str, piece_id: str, seconds: float = 1.0, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    n_frames = int(seconds * 250)
    writer.add(
        example_id,
        rng.standard_normal(n_frames * SR // 250).astype(np.float32),
        rng.uniform(100, 400, n_frames),
        rng.uniform(0, 1, n_frames),
        rng.uniform(-80, 0, n_frames),
        np.array([[60, 0.1, 0.5, 90], [62, 0.5, 0.9, 70]]),
        "violin",
        piece_id,
        "test",
    )


def test_splits_are_stable_and_near_80_10_10() -> None:
    ids = [f"piece-{i}" for i in range(4000)]
    splits = [split_for_piece(i) for i in ids]
    assert splits == [split_for_piece(i) for i in ids]
    counts = {s: splits.count(s) / len(ids) for s in SPLITS}
    assert counts["train"] == pytest.approx(0.8, abs=0.03)
    assert counts["validation"] == pytest.approx(0.1, abs=0.02)
    assert counts["test"] == pytest.approx(0.1, abs=0.02)


def test_examples_of_one_piece_share_a_split(tmp_path: Path) -> None:
    with DatasetWriter(tmp_path / "ds", SR) as writer:
        for piece in range(30):
            for part in range(3):
                add_example(writer, f"p{piece}-v{part}", f"piece:{piece}", seconds=0.2, seed=piece * 3 + part)
    dataset = open_dataset(tmp_path / "ds")
    by_piece: dict[str, set[str]] = {}
    for entry in dataset.entries:
        by_piece.setdefault(entry["piece_id"], set()).add(entry["split"])
    assert all(len(s) == 1 for s in by_piece.values())
    ids_by_split = [set(dataset.ids(split)) for split in SPLITS]
    assert sum(len(s) for s in ids_by_split) == 90 and len(set.union(*ids_by_split)) == 90
    for split in SPLITS:
        assert all(e.split == split for e in iter_examples(tmp_path / "ds", split))


def test_round_trip_is_exact(tmp_path: Path) -> None:
    with DatasetWriter(tmp_path / "ds", SR, ["violin", "cello"]) as writer:
        add_example(writer, "one", "piece:1", seed=7)
    rng = np.random.default_rng(7)
    audio = rng.standard_normal(250 * SR // 250).astype(np.float32)
    example = load_example(tmp_path / "ds", "one")
    np.testing.assert_array_equal(example.audio, audio)
    assert example.f0_hz.dtype == np.float32 and example.notes.dtype == np.float64
    assert example.instrument == "violin" and example.n_frames == 250
    assert [(n.pitch, n.velocity) for n in example.note_list()] == [(60, 90), (62, 70)]
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert manifest["instruments"] == ["violin", "cello"] and manifest["format_version"] == 1
    assert manifest["examples"][0]["duration"] == 1.0 and manifest["examples"][0]["n_notes"] == 2


def test_failed_build_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), DatasetWriter(tmp_path / "ds", SR) as writer:
        add_example(writer, "one", "piece:1")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_overwrite(tmp_path: Path) -> None:
    with DatasetWriter(tmp_path / "ds", SR) as writer:
        add_example(writer, "old", "piece:1")
    with pytest.raises(ReaDDSPError, match="not empty"):
        DatasetWriter(tmp_path / "ds", SR)
    with DatasetWriter(tmp_path / "ds", SR, overwrite=True) as writer:
        add_example(writer, "new", "piece:2")
    assert open_dataset(tmp_path / "ds").ids() == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_sample_rate_must_fit_the_frame_grid(tmp_path: Path) -> None:
    with pytest.raises(ReaDDSPError, match="multiple of 250"):
        DatasetWriter(tmp_path / "ds", 44100)


def test_damaged_datasets_give_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ReaDDSPError, match="not found"):
        open_dataset(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReaDDSPError, match="no manifest.json"):
        open_dataset(tmp_path / "empty")
    with DatasetWriter(tmp_path / "ds", SR) as writer:
        add_example(writer, "a", "piece:1")
        add_example(writer, "b", "piece:2")
    dataset = open_dataset(tmp_path / "ds")
    npz = tmp_path / "ds" / "examples" / "a.npz"
    npz.write_bytes(npz.read_bytes()[:1000])
    with pytest.raises(ReaDDSPError, match="corrupt") as err:
        dataset.load_example("a")
    assert str(npz) in str(err.value) and "\n" not in str(err.value)
    (tmp_path / "ds" / "examples" / "b.npz").unlink()
    with pytest.raises(ReaDDSPError, match="missing"):
        dataset.load_example("b")
    with pytest.raises(ReaDDSPError, match="no example 'c'"):
        dataset.load_example("c")
    with pytest.raises(ReaDDSPError, match="unknown split"):
        dataset.ids("training")
    (tmp_path / "ds" / "manifest.json").write_text("{not json")
    with pytest.raises(ReaDDSPError, match="unreadable manifest"):
        open_dataset(tmp_path / "ds")


def test_verify_detects_changed_files(tmp_path: Path) -> None:
    with DatasetWriter(tmp_path / "ds", SR) as writer:
        add_example(writer, "a", "piece:1")
    dataset = open_dataset(tmp_path / "ds")
    dataset.verify()
    path = tmp_path / "ds" / "examples" / "a.npz"
    data = bytearray(path.read_bytes())
    data[-30] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ReaDDSPError, match="checksum"):
        dataset.verify()
