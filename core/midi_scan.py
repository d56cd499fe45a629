"""Count a standard MIDI file's notes and events from its bytes, before mido builds an object for each event.

mido holds about half a kilobyte per event, so a file is refused on its size or its counts before it is parsed:
memory stays bounded whatever the file holds. The walk follows the SMF layout (variable-length deltas, running
status, meta and sysex lengths); damaged data ends a track's count and is left for mido to report.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_MIDI_BYTES = 16 << 20  # 1,000,000 events take at most 8 MB; real files are far smaller
MAX_EVENTS = 1_000_000  # every channel, meta and sysex event of every track: ~0.5 GB once mido has parsed them
_DATA_BYTES = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}


@dataclass(frozen=True)
class MidiCounts:
    """Sounding note-ons (velocity > 0) and events of all kinds; counting stops once a limit is passed."""

    notes: int
    events: int


def _vlq(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """A variable-length quantity at `pos` (at most 4 bytes) and the position after it; (-1, end) if cut short."""
    value = 0
    for _ in range(4):
        if pos >= end:
            return -1, end
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos
    return -1, end


def _count_track(data: bytes, pos: int, end: int, notes: int, events: int, max_notes: int) -> tuple[int, int]:
    running = 0
    while pos < end and notes <= max_notes and events <= MAX_EVENTS:
        delta, pos = _vlq(data, pos, end)
        if delta < 0 or pos >= end:
            break
        status = data[pos]
        if status & 0x80:
            pos += 1
        elif running:
            status = running
        else:
            break  # data byte without a status: damaged, mido reports it
        events += 1
        if status == 0xFF:
            length, pos = _vlq(data, pos + 1, end)
            pos, running = pos + max(length, 0), 0
        elif status in (0xF0, 0xF7):
            length, pos = _vlq(data, pos, end)
            pos, running = pos + max(length, 0), 0
        elif status >= 0xF0:
            break  # system messages do not belong in a file
        else:
            running = status
            if status & 0xF0 == 0x90 and pos + 1 < end and data[pos + 1]:
                notes += 1
            pos += _DATA_BYTES[status & 0xF0]
    return notes, events


def count_midi(data: bytes, max_notes: int) -> MidiCounts:
    """Notes and events in every `MTrk` chunk of an SMF's bytes (chunks of other kinds are skipped)."""
    notes = events = 0
    pos = 8 + int.from_bytes(data[4:8], "big") if data[:4] == b"MThd" else len(data)
    while pos + 8 <= len(data) and notes <= max_notes and events <= MAX_EVENTS:
        kind, length = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "big")
        start, end = pos + 8, min(pos + 8 + length, len(data))
        if kind == b"MTrk":
            notes, events = _count_track(data, start, end, notes, events, max_notes)
        pos = end
    return MidiCounts(notes, events)
