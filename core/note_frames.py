"""Notes on the 250 Hz frame grid: the per-frame note conditioning the models consume."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from readdsp.core.performance import N_CONTROLS, Note

FRAME_RATE = 250


def time_to_frame(seconds: float | np.ndarray, frame_rate: int = FRAME_RATE) -> np.ndarray:
    """Seconds to the nearest frame index (round half up, so onsets never drift by accumulation)."""
    return np.floor(np.asarray(seconds, dtype=np.float64) * frame_rate + 0.5).astype(np.int64)


def n_frames_for(duration_s: float, frame_rate: int = FRAME_RATE) -> int:
    """Number of frames covering `duration_s` seconds."""
    return int(np.ceil(duration_s * frame_rate - 1e-9))


@dataclass
class NoteFrames:
    """Per-frame note conditioning for one monophonic voice (all arrays have length n_frames)."""

    pitch: np.ndarray  # MIDI pitch of the sounding note, 0 in rests
    onset: np.ndarray  # 1.0 on a note's first frame
    offset: np.ndarray  # 1.0 on a note's last frame
    position: np.ndarray  # relative position within the note, idx/len in [0, 1), 0 in rests
    note_index: np.ndarray  # index into the note list, -1 in rests
    expression: np.ndarray  # [n_frames, 6] controls held over each note, 0 in rests

    @property
    def n_frames(self) -> int:
        return len(self.pitch)

    def stacked(self) -> np.ndarray:
        """[n_frames, 10]: 6 controls, pitch/127, onset, offset, position (MIDI-DDSP frame conditioning)."""
        return np.concatenate(
            [self.expression, np.stack([self.pitch / 127.0, self.onset, self.offset, self.position], axis=1)],
            axis=1,
        ).astype(np.float32)


def note_spans(notes: list[Note], n_frames: int, frame_rate: int = FRAME_RATE) -> np.ndarray:
    """[n_notes, 2] (start, end) frame spans, end exclusive; each note gets at least one frame.

    A note is cut where the next note starts, so spans never overlap (voices are monophonic).
    """
    spans = np.zeros((len(notes), 2), dtype=np.int64)
    for i, note in enumerate(notes):
        start = min(int(time_to_frame(note.onset, frame_rate)), max(n_frames - 1, 0))
        end = max(int(time_to_frame(note.offset, frame_rate)), start + 1)
        if i + 1 < len(notes):
            end = min(end, max(int(time_to_frame(notes[i + 1].onset, frame_rate)), start + 1))
        spans[i] = (start, min(end, n_frames))
    return spans


def notes_to_frames(
    notes: list[Note], n_frames: int, frame_rate: int = FRAME_RATE, expression: np.ndarray | None = None
) -> NoteFrames:
    """Lay a monophonic, onset-sorted note list onto the frame grid.

    `expression` ([n_notes, 6]) overrides the notes' own controls; notes without controls get zeros.
    """
    pitch = np.zeros(n_frames, np.float32)
    onset = np.zeros(n_frames, np.float32)
    offset = np.zeros(n_frames, np.float32)
    position = np.zeros(n_frames, np.float32)
    index = np.full(n_frames, -1, np.int64)
    controls = np.zeros((n_frames, N_CONTROLS), np.float32)
    for i, (start, end) in enumerate(note_spans(notes, n_frames, frame_rate)):
        if end <= start:
            continue
        length = end - start
        pitch[start:end] = notes[i].pitch
        onset[start] = 1.0
        offset[end - 1] = 1.0
        position[start:end] = np.arange(length, dtype=np.float32) / length
        index[start:end] = i
        row = expression[i] if expression is not None else notes[i].expression
        if row is not None:
            controls[start:end] = np.asarray(row, np.float32)
    return NoteFrames(pitch, onset, offset, position, index, controls)


def held_pitch(pitch: np.ndarray) -> np.ndarray:
    """Note pitch per frame with rests filled by the previous note (the next one before the first note)."""
    out = pitch.astype(np.float32).copy()
    voiced = np.flatnonzero(out > 0)
    if voiced.size == 0:
        return np.full_like(out, 60.0)
    idx = np.maximum.accumulate(np.where(out > 0, np.arange(len(out)), 0))
    out = out[idx]
    out[: voiced[0]] = out[voiced[0]]
    return out
