"""The cached training-data format: manifest.json plus one .npz of audio, features and notes per example.

Layout of a dataset folder `DIR` (format version 1):

    DIR/manifest.json
        {"format": "readdsp-dataset", "format_version": 1, "sample_rate": 24000, "frame_rate": 250,
         "instruments": ["violin", "cello", ...],            # instrument_id = index in this list
         "splits": {"train": 0.8, "validation": 0.1, "test": 0.1},
         "created_by": "...", "settings": {...},              # how it was made (free-form)
         "examples": [{"id", "file", "instrument", "piece_id", "source", "split",
                       "duration", "n_notes", "sha256"}, ...]}
    DIR/examples/<id>.npz   (numpy .npz, no pickles: load with allow_pickle=False)
        audio          float32 [n_samples]   mono at sample_rate; n_samples = n_frames * sample_rate / 250
        f0_hz          float32 [n_frames]    250 Hz frames; frame i is centred on i / 250 s
        f0_confidence  float32 [n_frames]    0..1
        loudness_db    float32 [n_frames]    A-weighted, DDSP convention
        notes          float64 [n_notes, 4]  pitch, onset_s, offset_s, velocity; onset-sorted, monophonic
        instrument     str array (0-d)        the instrument name
      optional (from-project datasets; readers that do not know them ignore them):
        cc_<N>         float64 [n_events, 2] time_s, value 0..127 of controller N (the value in force at 0 s first)
        pitch_bend     float64 [n_events, 2] time_s, semitones
      `notes` may then be polyphonic (chords), onset-sorted.

Splits are assigned by source piece (a hash of `piece_id`), so examples of one piece never fall in two splits.
The folder is built under a temporary name next to `DIR` and renamed into place only when complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from readdsp.core.errors import ReaDDSPError
from readdsp.core.hashing import sha256_file
from readdsp.core.performance import Note

FORMAT_NAME = "readdsp-dataset"
FORMAT_VERSION = 1
FRAME_RATE = 250
SPLITS = ("train", "validation", "test")
DEFAULT_SPLIT_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}
ARRAY_FIELDS = ("audio", "f0_hz", "f0_confidence", "loudness_db", "notes", "instrument")


def split_for_piece(piece_id: str, fractions: dict[str, float] | None = None) -> str:
    """The split of a source piece: a stable hash of its id mapped onto the cumulative split fractions."""
    fractions = fractions or DEFAULT_SPLIT_FRACTIONS
    digest = hashlib.sha256(piece_id.encode("utf-8")).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    total, cumulative = sum(fractions.values()), 0.0
    for split in SPLITS:
        cumulative += fractions.get(split, 0.0) / total
        if position < cumulative:
            return split
    return SPLITS[-1]


@dataclass
class Example:
    """One cached example, loaded."""

    id: str
    instrument: str
    piece_id: str
    source: str
    split: str
    sample_rate: int
    audio: np.ndarray
    f0_hz: np.ndarray
    f0_confidence: np.ndarray
    loudness_db: np.ndarray
    notes: np.ndarray  # [n, 4] pitch, onset_s, offset_s, velocity
    cc: dict[int, np.ndarray] = field(default_factory=dict)  # controller -> [n_events, 2] (time_s, value)
    pitch_bend: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # [n_events, 2] (time_s, semitones)

    @property
    def n_frames(self) -> int:
        return len(self.f0_hz)

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    def note_list(self) -> list[Note]:
        """The notes as `Note` objects (no expression controls)."""
        return [Note(int(round(p)), float(on), float(off), int(round(v))) for p, on, off, v in self.notes]


_LANE_NAME = re.compile(r"cc_(?:[0-9]|[1-9][0-9]|1[01][0-9]|12[0-7])|pitch_bend")


def _checked_lane(values: np.ndarray, name: str, path: Path) -> np.ndarray:
    """A lane array as float64 [n, 2], finite, times >= 0 and CC values in 0..127; ReaDDSPError naming the file."""
    lane = np.asarray(values, np.float64)
    if lane.ndim != 2 or lane.shape[1] != 2 or not np.isfinite(lane).all() or (lane[:, 0] < 0).any():
        raise ReaDDSPError(f"lane {name} must be finite [n, 2] rows of (time_s >= 0, value)", path)
    if name.startswith("cc_") and ((lane[:, 1] < 0) | (lane[:, 1] > 127)).any():
        raise ReaDDSPError(f"lane {name} has values outside 0..127", path)
    return lane


class DatasetWriter:
    """Builds a dataset atomically: `with DatasetWriter(dir, sr) as w: w.add(...)`; renamed in at the end."""

    def __init__(
        self,
        out_dir: str | Path,
        sample_rate: int,
        instruments: list[str] | None = None,
        overwrite: bool = False,
        settings: dict[str, Any] | None = None,
        split_fractions: dict[str, float] | None = None,
    ):
        self.out_dir = Path(out_dir)
        if sample_rate % FRAME_RATE:
            raise ReaDDSPError(f"the dataset sample rate must be a multiple of {FRAME_RATE} Hz, got {sample_rate}")
        if self.out_dir.exists() and not overwrite and any(self.out_dir.iterdir()):
            raise ReaDDSPError("output folder exists and is not empty (use --overwrite to replace it)", self.out_dir)
        self.sample_rate = int(sample_rate)
        self.instruments = list(instruments or [])
        self.settings = settings or {}
        self.split_fractions = split_fractions or dict(DEFAULT_SPLIT_FRACTIONS)
        self.entries: list[dict[str, Any]] = []
        self._tmp: Path | None = None

    def __enter__(self) -> DatasetWriter:
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.building-", dir=self.out_dir.parent))
        (self._tmp / "examples").mkdir()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._tmp is not None
        try:
            if exc_type is None:
                self._commit()
        finally:
            if self._tmp.exists():
                shutil.rmtree(self._tmp, ignore_errors=True)

    def add(
        self,
        example_id: str,
        audio: np.ndarray,
        f0_hz: np.ndarray,
        f0_confidence: np.ndarray,
        loudness_db: np.ndarray,
        notes: np.ndarray,
        instrument: str,
        piece_id: str,
        source: str,
        lanes: dict[str, np.ndarray] | None = None,
    ) -> dict[str, Any]:
        """Store one example (features already on the 250 Hz grid); returns its manifest entry.

        `lanes` holds the optional `cc_<N>` and `pitch_bend` arrays ([n_events, 2]: time_s, value)."""
        assert self._tmp is not None, "use DatasetWriter as a context manager"
        if any(e["id"] == example_id for e in self.entries):
            raise ValueError(f"duplicate example id {example_id!r}")
        n_frames = len(f0_hz)
        if not (len(f0_confidence) == len(loudness_db) == n_frames):
            raise ValueError("f0_hz, f0_confidence and loudness_db must have the same number of frames")
        if len(audio) != n_frames * self.sample_rate // FRAME_RATE:
            raise ValueError(f"audio has {len(audio)} samples, expected {n_frames * self.sample_rate // FRAME_RATE}")
        notes = np.asarray(notes, np.float64).reshape(-1, 4)
        extra = {name: np.asarray(v, np.float64).reshape(-1, 2) for name, v in (lanes or {}).items()}
        if any(not _LANE_NAME.fullmatch(name) for name in extra):
            raise ValueError(f"lane arrays are named cc_<0..127> or pitch_bend, got {sorted(extra)}")
        if instrument not in self.instruments:
            self.instruments.append(instrument)
        relative = f"examples/{example_id}.npz"
        path = self._tmp / relative
        np.savez(
            path,
            audio=np.asarray(audio, np.float32),
            f0_hz=np.asarray(f0_hz, np.float32),
            f0_confidence=np.asarray(f0_confidence, np.float32),
            loudness_db=np.asarray(loudness_db, np.float32),
            notes=notes,
            instrument=np.array(instrument),
            **extra,
        )
        entry = {
            "id": example_id,
            "file": relative,
            "instrument": instrument,
            "piece_id": piece_id,
            "source": source,
            "split": split_for_piece(piece_id, self.split_fractions),
            "duration": round(len(audio) / self.sample_rate, 6),
            "n_notes": int(len(notes)),
            "sha256": sha256_file(path),
        }
        self.entries.append(entry)
        return entry

    def _commit(self) -> None:
        assert self._tmp is not None
        manifest = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "sample_rate": self.sample_rate,
            "frame_rate": FRAME_RATE,
            "instruments": self.instruments,
            "splits": self.split_fractions,
            "settings": self.settings,
            "examples": self.entries,
        }
        (self._tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        old = None
        if self.out_dir.exists():
            old = self.out_dir.with_name(f".{self.out_dir.name}.old-{os.getpid()}")
            os.replace(self.out_dir, old)
        os.replace(self._tmp, self.out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


class CachedDataset:
    """An opened dataset folder: its manifest, and loading of its examples."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        manifest_path = self.root / "manifest.json"
        if not self.root.is_dir():
            raise ReaDDSPError("dataset folder not found", self.root)
        if not manifest_path.is_file():
            raise ReaDDSPError("not a ReaDDSP dataset (no manifest.json)", self.root)
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ReaDDSPError(f"unreadable manifest ({err})", manifest_path) from err
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
            raise ReaDDSPError("not a ReaDDSP dataset manifest", manifest_path)
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ReaDDSPError(
                f"unsupported format version {manifest.get('format_version')} (expected {FORMAT_VERSION})",
                manifest_path,
            )
        try:
            self.sample_rate = int(manifest["sample_rate"])
            self.frame_rate = int(manifest["frame_rate"])
            self.instruments = list(manifest["instruments"])
            self.entries = list(manifest["examples"])
            self._by_id = {e["id"]: e for e in self.entries}
        except (KeyError, TypeError, ValueError) as err:
            raise ReaDDSPError(f"manifest is missing a field ({err})", manifest_path) from err
        self.manifest = manifest

    def __len__(self) -> int:
        return len(self.entries)

    def ids(self, split: str | None = None) -> list[str]:
        """Example ids, all or of one split ('train', 'validation', 'test')."""
        if split is not None and split not in SPLITS:
            raise ReaDDSPError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        return [e["id"] for e in self.entries if split is None or e["split"] == split]

    def entry(self, example_id: str) -> dict[str, Any]:
        try:
            return self._by_id[example_id]
        except KeyError:
            raise ReaDDSPError(f"no example {example_id!r} in the dataset", self.root) from None

    def instrument_id(self, instrument: str) -> int:
        return self.instruments.index(instrument)

    def load_example(self, example_id: str, verify: bool = False) -> Example:
        """Load one example; `verify=True` also checks its sha256 against the manifest."""
        entry = self.entry(example_id)
        path = self.root / entry["file"]
        if not path.is_file():
            raise ReaDDSPError("example file is missing", path)
        if verify and sha256_file(path) != entry["sha256"]:
            raise ReaDDSPError("example file is corrupt (checksum mismatch)", path)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in ARRAY_FIELDS}
                lanes = {name: data[name] for name in data.files if _LANE_NAME.fullmatch(name)}
        except KeyError as err:
            raise ReaDDSPError(f"example file lacks the array {err}", path) from err
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
            raise ReaDDSPError(f"example file is corrupt ({type(err).__name__})", path) from err
        return Example(
            id=example_id,
            instrument=str(arrays["instrument"]),
            piece_id=entry["piece_id"],
            source=entry.get("source", ""),
            split=entry["split"],
            sample_rate=self.sample_rate,
            audio=arrays["audio"].astype(np.float32, copy=False),
            f0_hz=arrays["f0_hz"].astype(np.float32, copy=False),
            f0_confidence=arrays["f0_confidence"].astype(np.float32, copy=False),
            loudness_db=arrays["loudness_db"].astype(np.float32, copy=False),
            notes=arrays["notes"].astype(np.float64, copy=False).reshape(-1, 4),
            cc={int(k[3:]): _checked_lane(v, k, path) for k, v in lanes.items() if k.startswith("cc_")},
            pitch_bend=_checked_lane(lanes.get("pitch_bend", np.zeros((0, 2))), "pitch_bend", path),
        )

    def iter_examples(self, split: str | None = None) -> Iterator[Example]:
        """Load the examples of one split (or all) in manifest order."""
        for example_id in self.ids(split):
            yield self.load_example(example_id)

    def verify(self) -> None:
        """Check every example file's checksum; raises ReaDDSPError on the first bad one."""
        for entry in self.entries:
            self.load_example(entry["id"], verify=True)


def open_dataset(root: str | Path) -> CachedDataset:
    """Open a dataset folder, raising ReaDDSPError if it is missing or its manifest is bad."""
    return CachedDataset(root)


def load_example(root: str | Path, example_id: str) -> Example:
    """Load one example of the dataset at `root`."""
    return open_dataset(root).load_example(example_id)


def iter_examples(root: str | Path, split: str | None = None) -> Iterator[Example]:
    """Iterate over the examples of one split of the dataset at `root`."""
    return open_dataset(root).iter_examples(split)
