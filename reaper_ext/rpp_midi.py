"""Read an RPP `<SOURCE MIDI` block (`E`/`e` lines: delta ticks, hex bytes) into PPQ events."""

from __future__ import annotations

from rpp import Element

from readdsp.reaper_ext.midi_events import MidiCC, MidiNote, TakeMidi

DEFAULT_TICKS_PER_QN = 960


def ticks_per_qn(source: Element) -> int:
    for line in source.children:
        if isinstance(line, list) and line and line[0] == "HASDATA" and len(line) > 2:
            return int(line[2])
    return DEFAULT_TICKS_PER_QN


def parse_midi_source(source: Element) -> TakeMidi:
    """Notes (note-on/off paired first-in first-out per channel and pitch), channel events, length."""
    tick = 0
    open_notes: dict[tuple[int, int], list[tuple[int, int, bool]]] = {}
    notes: list[MidiNote] = []
    ccs: list[MidiCC] = []
    for line in source.children:
        if not isinstance(line, list) or not line:
            if isinstance(line, Element) and line.tag.upper() == "X" and line.attrib:
                tick += int(float(line.attrib[0]))  # sysex/meta blocks carry a delta too
            continue
        flag = line[0]
        if flag[:1] not in ("E", "e") or len(line) < 4:
            continue
        tick += int(float(line[1]))
        muted = "m" in flag[1:]
        status = int(line[2], 16)
        data1 = int(line[3], 16) if len(line) > 3 else 0
        data2 = int(line[4], 16) if len(line) > 4 else 0
        kind, channel = status & 0xF0, status & 0x0F
        if kind == 0x90 and data2 > 0:
            open_notes.setdefault((channel, data1), []).append((tick, data2, muted))
        elif kind == 0x80 or (kind == 0x90 and data2 == 0):
            pending = open_notes.get((channel, data1))
            if pending:
                start, velocity, note_muted = pending.pop(0)
                notes.append(MidiNote(start, tick, channel, data1, velocity, note_muted))
        elif kind in (0xA0, 0xB0, 0xC0, 0xD0, 0xE0):
            if kind == 0xB0 and data1 == 0x7B:
                continue  # all-notes-off marks the end of the source, not a control change
            ccs.append(MidiCC(tick, kind, channel, data1, data2, muted))
    for (channel, pitch), pending in open_notes.items():
        for start, velocity, note_muted in pending:  # hanging notes last until the source end
            notes.append(MidiNote(start, tick, channel, pitch, velocity, note_muted))
    notes.sort(key=lambda n: (n.start_ppq, n.pitch))
    return TakeMidi(notes=notes, ccs=ccs, source_length_ppq=float(tick))
