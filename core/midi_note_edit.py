"""Write a Performance's note changes (velocity, onset, offset) back into a copy of the MIDI file it was read from.

Only note events change: each note of the edited Performance is found in the file by its part (track and channel,
in `read_midi`'s part order), pitch and original onset tick; its note-on gets the new velocity and, where the time
changed, the note-on and note-off their new ticks (through the file's own tempo map). Every other event, and every
note whose values did not change, is kept as it was (`core.humanize.edited_track`).
"""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np

from readdsp.core.atomic import write_bytes
from readdsp.core.errors import ReaDDSPError
from readdsp.core.humanize import edited_track, end_before_next_of_key, midi_bytes
from readdsp.core.midi_io import load_midi_file, read_midi
from readdsp.core.midi_notes import TickNote, absolute_ticks, tick_notes
from readdsp.core.performance import Performance
from readdsp.core.tempo_map import TempoMap


def file_tempo_map(midi: mido.MidiFile) -> TempoMap:
    """The tempo map of a type 0 or 1 file, from the `set_tempo` events of all its tracks (as `read_midi` reads it)."""
    changes = sorted(
        (tick, ti, i, msg.tempo)
        for ti, track in enumerate(midi.tracks)
        for i, (tick, msg) in enumerate(zip(absolute_ticks(track), track, strict=True))
        if msg.type == "set_tempo"
    )
    return TempoMap.from_midi([(tick, tempo) for tick, _, _, tempo in changes], midi.ticks_per_beat)


def _notes_by_part(midi: mido.MidiFile) -> list[dict[tuple[int, int], list[TickNote]]]:
    """Per part (track, channel with notes, in read_midi's order): (pitch, on tick) -> its sounding notes."""
    parts: dict[tuple[int, int], dict[tuple[int, int], list[TickNote]]] = {}
    for note in tick_notes(midi):
        if note.off_tick > note.on_tick:  # zero-length notes are not read
            parts.setdefault((note.track, note.channel), {}).setdefault((note.pitch, note.on_tick), []).append(note)
    return [parts[key] for key in sorted(parts)]


def midi_with_notes(
    midi: mido.MidiFile, original: Performance, edited: Performance, path: Path | None = None
) -> mido.MidiFile:
    """A copy of `midi` (read as `original`) whose notes carry `edited`'s velocities and times; `edited` has the
    same parts and notes, note for note, as `original`. ReaDDSPError if they do not match the file."""
    if midi.type == 2:
        raise ReaDDSPError("a type 2 MIDI file (one tempo map per track) cannot take edited notes", path)
    by_part = _notes_by_part(midi)
    if len(by_part) != len(original.parts) or len(edited.parts) != len(original.parts):
        raise ReaDDSPError("the edited notes no longer match the MIDI file's parts", path)
    tempo = file_tempo_map(midi)
    new_ticks: dict[tuple[int, int], int] = {}
    new_velocity: dict[tuple[int, int], int] = {}
    for p, (found, old_part, new_part) in enumerate(zip(by_part, original.parts, edited.parts, strict=True)):
        if len(old_part.notes) != len(new_part.notes):
            raise ReaDDSPError(f"part {p + 1}: the edited notes no longer match the MIDI file", path)
        matched: list[TickNote] = []
        starts, ends = [], []
        for old, new in zip(old_part.notes, new_part.notes, strict=True):
            candidates = found.get((old.pitch, tempo.to_ticks(old.onset)), [])
            if not candidates or new.pitch != old.pitch:
                raise ReaDDSPError(f"part {p + 1}: no note {old.pitch} at {old.onset:.3f} s in the MIDI file", path)
            note = candidates.pop(0)
            matched.append(note)
            on = note.on_tick if new.onset == old.onset else tempo.to_ticks(new.onset)
            off = note.off_tick if new.offset == old.offset and on == note.on_tick else tempo.to_ticks(new.offset)
            starts.append(on)
            ends.append(max(off, on + 1))
            new_velocity[(note.track, note.on_index)] = min(max(int(new.velocity), 1), 127)
        start_ticks, end_ticks = np.array(starts), np.array(ends)
        end_before_next_of_key(matched, start_ticks, end_ticks)
        for note, on, off in zip(matched, start_ticks, end_ticks, strict=True):
            new_ticks[(note.track, note.on_index)] = int(on)
            if note.off_index is not None:
                new_ticks[(note.track, note.off_index)] = int(off)
    out = mido.MidiFile(type=midi.type, ticks_per_beat=midi.ticks_per_beat, charset=midi.charset)
    for track_index, track in enumerate(midi.tracks):
        out.tracks.append(edited_track(track, track_index, new_ticks, new_velocity))
    return out


def save_midi_with_notes(source: str | Path, target: str | Path, edited: Performance) -> Path:
    """Write `source` with `edited`'s notes to `target`, atomically; `source` is never written."""
    source, target = Path(source), Path(target)
    if target.resolve() == source.resolve():
        raise ReaDDSPError("the edited MIDI would overwrite the file it was read from", target)
    original = read_midi(source)
    midi = midi_with_notes(load_midi_file(source), original, edited, source)
    return write_bytes(target, midi_bytes(midi))
