"""Notes on the 250 Hz frame grid: the per-frame note conditioning the models consume."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from readdsp.core.performance import N_CONTROLS, Note

FRAME_RATE = 250
#: A note longer than POSITION_SPAN_S (seconds) starts as a note of that length does, holds mid-note (0.5), and
#: ends on the second half of a shorter note's course, down to POSITION_RELEASE_S. The corpus has few notes past
#: 1.5 s, so a network that read a 4-s note's position as a stretched short note played it as one: fading 5-8 dB by
#: 90% of its length where a player or a soundfont holds it; and ending every long note of a legato line on a 1-s
#: note's half-second decay made the line swell and sag note by note (docs/training.md, "Long notes").
POSITION_SPAN_S = 1.0
POSITION_RELEASE_S = 0.25


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
    position: np.ndarray  # position within the note in [0, 1) (`note_position`), 0 in rests
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


def note_position(length: int, frame_rate: int = FRAME_RATE) -> np.ndarray:
    """[length] position through a note of `length` frames: idx/length up to POSITION_SPAN_S; a longer note rises
    at that note's pace to 0.5, holds, and rises to 1 over its last frames (from half the span, shrinking with the
    note's length, down to POSITION_RELEASE_S), so that the course is continuous in the note's length."""
    span = int(round(POSITION_SPAN_S * frame_rate))
    index = np.arange(length, dtype=np.float32)
    if length <= span:
        return index / length
    attack = span // 2
    release = max(int(round(POSITION_RELEASE_S * frame_rate)), span - length // 2)
    position = np.full(length, 0.5, np.float32)
    position[:attack] = index[:attack] / span
    position[length - release :] = 0.5 + 0.5 * index[:release] / release
    return position


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
        position[start:end] = note_position(length, frame_rate)
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
