"""Read an RPP MIDI source (`<SOURCE MIDI`, pooled `MIDIPOOL`, or an external `FILE`) into PPQ events.

Event lines are `E`/`e` plus lower-case flags (`m` = muted): `E delta status data1 [data2]`, the delta in ticks and
the bytes in hex; `<X delta ...>` sysex/text blocks carry a delta too. Every other line (`HASDATA`, `ENV`,
`CCINTERP`, `POOLEDEVTS`, `GUID`, ...) is not an event and moves no time. Every number is checked: a bad one is
a ReaDDSPError naming the line. Notes are paired by `core/midi_rules.py`.
"""

from __future__ import annotations

import re
from pathlib import Path

from rpp import Element

from readdsp.core.errors import ReaDDSPError
from readdsp.core.midi_io import load_midi_file
from readdsp.core.midi_rules import MidiCC, NotePairer, TakeMidi

DEFAULT_TICKS_PER_QN = 960
MAX_TICKS_PER_QN = 1 << 20
_EVENT_FLAG = re.compile(r"[Ee][a-z]*")
_CHANNEL_EVENTS = (0xA0, 0xB0, 0xC0, 0xD0, 0xE0)


def _lines(source: Element) -> list[list[str]]:
    return [c for c in source.children if isinstance(c, list) and c]


def source_value(source: Element, key: str) -> list[str] | None:
    return next((line[1:] for line in _lines(source) if line[0] == key), None)


def ticks_per_qn(source: Element) -> int:
    values = source_value(source, "HASDATA")
    if not values or len(values) < 2:
        return DEFAULT_TICKS_PER_QN
    tpq = _integer(values[1], "HASDATA ticks per quarter note")
    if not 0 < tpq <= MAX_TICKS_PER_QN:
        raise ReaDDSPError(f"HASDATA ticks per quarter note {values[1]!r} is outside 1..{MAX_TICKS_PER_QN}")
    return tpq


def pool_id(source: Element) -> str | None:
    values = source_value(source, "POOLEDEVTS")
    return values[0] if values else None


def has_events(source: Element) -> bool:
    return any(_EVENT_FLAG.fullmatch(line[0]) for line in _lines(source))


def _integer(token: str, what: str) -> int:
    if not re.fullmatch(r"-?\d{1,15}", token):
        raise ReaDDSPError(f"{what} {token!r} is not a whole number")
    return int(token)


def _byte(token: str, what: str) -> int:
    if not re.fullmatch(r"[0-9A-Fa-f]{1,2}", token):
        raise ReaDDSPError(f"{what} {token!r} is not a hex byte")
    return int(token, 16)


def parse_midi_source(source: Element) -> TakeMidi:
    """Notes (paired per channel and pitch), channel events and the source length, in ticks."""
    tick = 0
    pairer = NotePairer()
    ccs: list[MidiCC] = []
    for index, line in enumerate(source.children):
        if isinstance(line, Element):
            if line.tag in ("X", "x") and line.attrib:
                tick += max(0, _integer(line.attrib[0], f"<{line.tag} delta"))
            continue
        if not isinstance(line, list) or not line or not _EVENT_FLAG.fullmatch(line[0]):
            continue
        if len(line) < 4:
            raise ReaDDSPError(f"MIDI event line {index + 1} {' '.join(line)!r} has fewer than 3 bytes")
        delta = _integer(line[1], f"MIDI event line {index + 1}: delta")
        if delta < 0:
            raise ReaDDSPError(f"MIDI event line {index + 1}: negative delta {delta}")
        tick += delta
        muted = "m" in line[0][1:]
        status = _byte(line[2], f"MIDI event line {index + 1}: status")
        data1 = _byte(line[3], f"MIDI event line {index + 1}: data byte")
        data2 = _byte(line[4], f"MIDI event line {index + 1}: data byte") if len(line) > 4 else 0
        if status < 0x80:
            raise ReaDDSPError(f"MIDI event line {index + 1}: status byte {line[2]} is below 80")
        if status >= 0xF0:
            continue  # system messages carry no note or controller
        if data1 > 0x7F or data2 > 0x7F:
            raise ReaDDSPError(f"MIDI event line {index + 1}: data byte over 7f in {' '.join(line[2:5])}")
        _add_event(pairer, ccs, tick, status, data1, data2, muted)
    pairer.close_all(tick, tick)
    notes = sorted(pairer.notes, key=lambda n: (n.start_ppq, n.pitch))
    return TakeMidi(notes=notes, ccs=ccs, source_length_ppq=float(tick))


def _add_event(pairer: NotePairer, ccs: list[MidiCC], tick: int, status: int, d1: int, d2: int, muted: bool) -> None:
    kind, channel = status & 0xF0, status & 0x0F
    if kind == 0x90 and d2 > 0:
        pairer.note_on(tick, channel, d1, d2, muted)
    elif kind == 0x80 or kind == 0x90:
        pairer.note_off(tick, channel, d1)
    elif kind in _CHANNEL_EVENTS and not (kind == 0xB0 and d1 == 0x7B):  # all-notes-off marks the source end
        ccs.append(MidiCC(tick, kind, channel, d1, d2, muted))


def read_midi_file_events(path: Path) -> tuple[TakeMidi, int]:
    """A MIDI source's external `.mid` file as one take's events (all tracks merged) and its ticks per beat.

    REAPER plays an external MIDI file's ticks as quarter notes of the project tempo, so its own tempo events
    are not applied here.
    """
    midi = load_midi_file(path)  # bounded: size, notes and events checked before mido parses it
    if not 0 < midi.ticks_per_beat <= MAX_TICKS_PER_QN:
        raise ReaDDSPError("SMPTE time division is not supported (need ticks per beat)", path)
    pairer = NotePairer()
    ccs: list[MidiCC] = []
    events = []
    for t_index, track in enumerate(midi.tracks):
        tick = 0
        for m_index, msg in enumerate(track):
            tick += msg.time
            if not msg.is_meta and hasattr(msg, "channel"):
                events.append((tick, t_index, m_index, msg.bytes()))
    end = max((sum(m.time for m in track) for track in midi.tracks), default=0)
    for tick, _, _, data in sorted(events, key=lambda e: e[:3]):
        _add_event(pairer, ccs, tick, data[0], data[1] if len(data) > 1 else 0, data[2] if len(data) > 2 else 0, False)
    pairer.close_all(end, end)
    ccs.sort(key=lambda c: c.ppq)
    notes = sorted(pairer.notes, key=lambda n: (n.start_ppq, n.pitch))
    return TakeMidi(notes=notes, ccs=ccs, source_length_ppq=float(end)), midi.ticks_per_beat
