"""Split a polyphonic part into monophonic voices without ever moving a note's onset.

Rule (greedy voice allocation):
- Notes are taken by onset, and notes sharing an onset (a chord) from the highest pitch down, so the top
  note of a chord goes to the lowest-numbered voice.
- A voice is free for a note when its last note ends no later than the new onset plus `legato_tolerance`
  (30 ms by default) and began strictly before it.
- The note goes to the lowest-numbered free voice. When several free voices tie (their last notes ended
  within 1 ms of each other, e.g. after a chord), the one whose last pitch is closest wins, then the lowest
  number. With no free voice, a new voice is opened.
- A legato overlap (the voice's last note ends after the new onset, by at most the tolerance) is resolved by
  cutting that earlier note's offset to the new onset. Onsets never move and no other offset changes.
- Each voice is a copy of the part (name, program, channel, CC lanes, pitch bend) holding its notes; with more
  than one voice the names become "Violin (voice 2)". A part that is already monophonic (after legato cuts)
  comes back as a single copy under its own name. The input part is not modified.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from readdsp.core.performance import Note, Part

LEGATO_TOLERANCE = 0.030  # seconds
_TIE = 0.001  # seconds: voices whose last notes ended this close together count as tied


@dataclass
class _Voice:
    notes: list[Note] = field(default_factory=list)

    @property
    def last(self) -> Note:
        return self.notes[-1]

    def is_free_for(self, note: Note, tolerance: float) -> bool:
        return not self.notes or (self.last.offset <= note.onset + tolerance and self.last.onset < note.onset)


def _choose(voices: list[_Voice], note: Note, tolerance: float) -> int | None:
    free = [i for i, v in enumerate(voices) if v.is_free_for(note, tolerance)]
    if not free:
        return None
    first = voices[free[0]]
    if not first.notes:
        return free[0]
    tied = [i for i in free if voices[i].notes and abs(voices[i].last.offset - first.last.offset) <= _TIE]
    return min(tied, key=lambda i: (abs(voices[i].last.pitch - note.pitch), i))


def assign_voices(part: Part, legato_tolerance: float = LEGATO_TOLERANCE) -> list[list[int]]:
    """The module's rule as indices: for each voice, the indices into `part.notes` of its notes, by onset."""
    notes = part.notes
    order = sorted(range(len(notes)), key=lambda i: (notes[i].onset, -notes[i].pitch, notes[i].offset))
    voices: list[_Voice] = []
    members: list[list[int]] = []
    for i in order:
        note = copy.copy(notes[i])  # the voice's view: its offset may be cut by a legato overlap
        index = _choose(voices, note, legato_tolerance)
        if index is None:
            voices.append(_Voice())
            members.append([])
            index = len(voices) - 1
        voice = voices[index]
        if voice.notes and voice.last.offset > note.onset:
            voice.last.offset = note.onset
        voice.notes.append(note)
        members[index].append(i)
    return members


def split_monophonic(part: Part, legato_tolerance: float = LEGATO_TOLERANCE) -> list[Part]:
    """Split `part` into monophonic voices by the module's rule (a part without notes: one copy).

    `voice_notes(part, indices)` rebuilds one voice from `assign_voices`' indices, so a caller that keeps the
    indices can map every voice note back to the part's own note.
    """
    if not part.notes:
        return [copy.deepcopy(part)]
    members = assign_voices(part, legato_tolerance)
    template = copy.copy(part)
    template.notes = []
    out = []
    for number, indices in enumerate(members, start=1):
        voice_part = copy.deepcopy(template)
        voice_part.notes = voice_notes(part, indices)
        if len(members) > 1:
            voice_part.name = f"{part.name or 'Part'} (voice {number})"
        out.append(voice_part)
    return out


def voice_notes(part: Part, indices: list[int]) -> list[Note]:
    """Copies of the part's notes at `indices` (one voice, by onset), each cut at the next one's onset."""
    notes = [copy.deepcopy(part.notes[i]) for i in indices]
    for note, following in zip(notes, notes[1:], strict=False):
        note.offset = min(note.offset, following.onset)
    return notes
