"""Notes of a MIDI file in ticks, paired per track, channel and pitch, with where each event sits (for edits)."""

from __future__ import annotations

from dataclasses import dataclass

import mido

DRUM_CHANNEL = 9


@dataclass
class TickNote:
    """One note: the track and message indices of its note-on and note-off, and their absolute ticks."""

    track: int
    on_index: int
    off_index: int | None  # None: never released (held to the end of its track)
    channel: int
    pitch: int
    velocity: int
    on_tick: int
    off_tick: int


def absolute_ticks(track: mido.MidiTrack) -> list[int]:
    """The absolute tick of each message of a track."""
    ticks, tick = [], 0
    for msg in track:
        tick += msg.time
        ticks.append(tick)
    return ticks


def _is_note_off(msg: mido.Message) -> bool:
    return msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0)


def tick_notes(midi: mido.MidiFile) -> list[TickNote]:
    """Every note of every track; a note-off ends the oldest sounding note of its channel and pitch (FIFO)."""
    notes: list[TickNote] = []
    for track_index, track in enumerate(midi.tracks):
        ticks = absolute_ticks(track)
        sounding: dict[tuple[int, int], list[TickNote]] = {}
        for index, msg in enumerate(track):
            if msg.type not in ("note_on", "note_off"):
                continue
            key = (msg.channel, msg.note)
            if _is_note_off(msg):
                if sounding.get(key):
                    note = sounding[key].pop(0)
                    note.off_index, note.off_tick = index, ticks[index]
                continue
            note = TickNote(track_index, index, None, msg.channel, msg.note, msg.velocity, ticks[index], ticks[-1])
            sounding.setdefault(key, []).append(note)
            notes.append(note)
    return notes


def meter_changes(midi: mido.MidiFile) -> list[tuple[float, float]]:
    """(quarter position, quarters per bar) of every time-signature event, in order; [] if there is none."""
    changes = {}
    for track in midi.tracks:
        for tick, msg in zip(absolute_ticks(track), track, strict=True):
            if msg.type == "time_signature":
                changes[tick / midi.ticks_per_beat] = msg.numerator * 4.0 / msg.denominator
    return sorted(changes.items())


def is_drum(note: TickNote) -> bool:
    """Notes on MIDI channel 10 are drums (General MIDI)."""
    return note.channel == DRUM_CHANNEL
