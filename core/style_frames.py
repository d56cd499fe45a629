"""MIDI on the 250 Hz frame grid for the style-DDSP family: pitch (with bend), gate, velocity, style CCs, timing.

Channels of one monophonic voice, in this order (`input_channels(style_ccs)` names them):
- `pitch`: (MIDI pitch + pitch bend in semitones) / 127, the last note's pitch held through rests (so a release keeps
  its pitch), the first note's before it; `gate`: 1 while a note sounds, else 0.
- `velocity`: the sounding (or last) note's velocity / 127, held through the release; 0 before the first note.
- one per style CC: its value / 127, a step held from each event to the next, the CC's default before the first.
- `since_onset`: seconds since the last onset / TIME_SCALE_S, clipped to 1 (0 before the first note).
- `to_offset`: seconds to the sounding note's offset / TIME_SCALE_S (positive, clipped to 1), then minus the seconds
  since that offset (negative, clipped to -1): the release is timed too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from readdsp.core.control_lanes import ControlLanes, step_curve
from readdsp.core.note_frames import FRAME_RATE, held_pitch, note_spans
from readdsp.core.performance import Note

TIME_SCALE_S = 2.0


@dataclass(frozen=True)
class StyleCC:
    """A style controller a model listens to: its number, name, display name, default and meaning."""

    number: int
    name: str
    display: str
    default: int
    meaning: str

    @classmethod
    def from_dict(cls, data: dict) -> StyleCC:
        return cls(
            int(data["number"]), str(data["name"]), str(data["display"]), int(data["default"]), str(data["meaning"])
        )

    def to_dict(self) -> dict:
        return {
            "number": self.number,
            "name": self.name,
            "display": self.display,
            "default": self.default,
            "meaning": self.meaning,
        }


OPENNESS = StyleCC(55, "openness", "Openness", 127, "0 = muted/closed (palm-muted), 127 = open, ringing strings")
DEFAULT_STYLE_CCS = (OPENNESS,)


def input_channels(style_ccs: tuple[StyleCC, ...] | list[StyleCC]) -> list[str]:
    return ["pitch", "gate", "velocity", *(f"cc{cc.number}" for cc in style_ccs), "since_onset", "to_offset"]


def voice_frames(
    notes: list[Note], lanes: ControlLanes | None, n_frames: int, style_ccs: tuple[StyleCC, ...] | list[StyleCC]
) -> tuple[np.ndarray, np.ndarray]:
    """([n_frames, channels] float32 inputs, [n_frames] f0 in MIDI pitch with bend) for one onset-sorted voice."""
    lanes = lanes or ControlLanes()
    pitch = np.zeros(n_frames, np.float32)
    gate = np.zeros(n_frames, np.float32)
    velocity = np.zeros(n_frames, np.float32)
    since = np.zeros(n_frames, np.float32)
    to_off = np.zeros(n_frames, np.float32)
    frames = np.arange(n_frames, dtype=np.float32) / FRAME_RATE
    spans = note_spans(notes, n_frames, FRAME_RATE)
    for i, (start, end) in enumerate(spans):
        note = notes[i]
        stop = spans[i + 1][0] if i + 1 < len(spans) else n_frames
        if stop <= start:
            continue
        pitch[start:end] = note.pitch
        gate[start:end] = 1.0
        velocity[start:stop] = note.velocity / 127.0
        since[start:stop] = (frames[start:stop] - frames[start]) / TIME_SCALE_S
        off_time = end / FRAME_RATE
        to_off[start:stop] = (off_time - frames[start:stop]) / TIME_SCALE_S
    midi = held_pitch(pitch) + step_curve(lanes.pitch_bend, n_frames, 0.0)
    ccs = [step_curve(lanes.cc.get(cc.number, []), n_frames, cc.default) / 127.0 for cc in style_ccs]
    inputs = np.stack(
        [midi / 127.0, gate, velocity, *ccs, np.clip(since, 0.0, 1.0), np.clip(to_off, -1.0, 1.0)], axis=1
    )
    return inputs.astype(np.float32), midi.astype(np.float32)
