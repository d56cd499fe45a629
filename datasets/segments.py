"""Fixed-length training windows over a cached dataset, as a torch Dataset of frame-aligned tensors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from readdsp.core.errors import ReaDDSPError
from readdsp.core.features.loudness import DB_RANGE
from readdsp.core.note_frames import notes_to_frames
from readdsp.datasets.cache import Example, open_dataset


class SegmentDataset(Dataset):
    """Windows of `segment_seconds` every `hop_seconds` over the examples of one split.

    Each item is a dict of tensors (T = segment_seconds * 250 frames, n_samples = T * sample_rate / 250):
    `audio` [n_samples], `f0_hz`, `f0_confidence`, `loudness_db` [T], `conditioning` [T, 10]
    (`NoteFrames.stacked()`: 6 expression controls, zero here, then pitch/127, onset, offset, position),
    `note_pitch` [T] (MIDI pitch, 0 in rests), `note_index` [T] (index into the notes of this window,
    -1 in rests), `mask` [T] (1 on real frames, 0 on padding), `instrument_id` (index into the
    dataset's instrument list), `example_index` and `start_frame`.
    Note conditioning is laid out over the whole example first, so a note cut by the window keeps its
    true onset flag and position. Examples shorter than a window give one zero-padded window; the last
    window of a longer example is aligned to its end so no audio is left out.
    """

    def __init__(
        self,
        dataset_dir: str | Path,
        split: str | None = "train",
        segment_seconds: float = 4.0,
        hop_seconds: float = 1.0,
    ):
        self.dataset = open_dataset(dataset_dir)
        self.frame_rate = self.dataset.frame_rate
        self.sample_rate = self.dataset.sample_rate
        self.samples_per_frame = self.sample_rate // self.frame_rate
        self.segment_frames = int(round(segment_seconds * self.frame_rate))
        self.hop_frames = int(round(hop_seconds * self.frame_rate))
        if self.segment_frames < 1 or self.hop_frames < 1:
            raise ReaDDSPError(f"segment ({segment_seconds} s) and hop ({hop_seconds} s) must be at least one frame")
        self.instruments = list(self.dataset.instruments)
        self.examples: list[Example] = list(self.dataset.iter_examples(split))
        self._conditioning = []
        self._note_index = []
        self._note_pitch = []
        self.windows: list[tuple[int, int]] = []
        for index, example in enumerate(self.examples):
            frames = notes_to_frames(example.note_list(), example.n_frames, self.frame_rate)
            self._conditioning.append(frames.stacked())
            self._note_index.append(frames.note_index)
            self._note_pitch.append(frames.pitch.astype(np.float32))
            self.windows += [(index, start) for start in self._window_starts(example.n_frames)]

    def _window_starts(self, n_frames: int) -> list[int]:
        last = max(n_frames - self.segment_frames, 0)
        starts = list(range(0, last + 1, self.hop_frames))
        if starts[-1] < last:
            starts.append(last)
        return starts

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        index, start = self.windows[item]
        example = self.examples[index]
        end = min(start + self.segment_frames, example.n_frames)
        length = end - start
        frames = self.segment_frames

        def window(array: np.ndarray, fill: float = 0.0) -> torch.Tensor:
            out = np.full((frames, *array.shape[1:]), fill, dtype=array.dtype)
            out[:length] = array[start:end]
            return torch.from_numpy(out)

        audio = np.zeros(frames * self.samples_per_frame, np.float32)
        piece = example.audio[start * self.samples_per_frame : end * self.samples_per_frame]
        audio[: len(piece)] = piece
        global_index = self._note_index[index][start:end]
        sounding = global_index[global_index >= 0]
        local_index = np.where(global_index >= 0, global_index - (sounding.min() if len(sounding) else 0), -1)
        note_index = np.full(frames, -1, np.int64)
        note_index[:length] = local_index
        mask = np.zeros(frames, np.float32)
        mask[:length] = 1.0
        return {
            "audio": torch.from_numpy(audio),
            "f0_hz": window(example.f0_hz),
            "f0_confidence": window(example.f0_confidence),
            "loudness_db": window(example.loudness_db, fill=-DB_RANGE),
            "conditioning": window(self._conditioning[index]),
            "note_pitch": window(self._note_pitch[index]),
            "note_index": torch.from_numpy(note_index),
            "mask": torch.from_numpy(mask),
            "instrument_id": torch.tensor(self.instruments.index(example.instrument), dtype=torch.long),
            "example_index": torch.tensor(index, dtype=torch.long),
            "start_frame": torch.tensor(start, dtype=torch.long),
        }
