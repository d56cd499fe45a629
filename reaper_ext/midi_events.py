"""Raw MIDI take events in PPQ (as REAPER reports them) and their conversion to a `Performance` in seconds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from readdsp.core.performance import Note, Part, Performance

PITCH_BEND_RANGE = 2.0  # semitones for a full bend, the General MIDI default
MAX_LOOPS = 10_000


@dataclass(frozen=True)
class MidiNote:
    start_ppq: float
    end_ppq: float
    channel: int
    pitch: int
    velocity: int
    muted: bool = False


@dataclass(frozen=True)
class MidiCC:
    """A channel event from a CC lane: `status` is 0xB0 CC, 0xC0 program, 0xE0 pitch bend..."""

    ppq: float
    status: int
    channel: int
    msg2: int
    msg3: int
    muted: bool = False


@dataclass
class TakeMidi:
    """A MIDI take's events in PPQ, from the take start; `source_length_ppq` = one pass of the source."""

    notes: list[MidiNote] = field(default_factory=list)
    ccs: list[MidiCC] = field(default_factory=list)
    source_length_ppq: float = 0.0


def take_to_performance(
    midi: TakeMidi,
    ppq_to_item_seconds: Callable[[float], float],
    item_length: float,
    loop: bool,
    name: str = "",
) -> Performance:
    """Notes and lanes in seconds from the item start, one Part per MIDI channel.

    `ppq_to_item_seconds` applies the tempo map, source offset and play rate. Looped items repeat the source
    every `source_length_ppq`. Muted events, and notes starting outside [0, item_length), are left out; notes
    are cut at the item end.
    """
    passes = 1
    if loop and midi.source_length_ppq > 0:
        passes = 1
        while passes < MAX_LOOPS and ppq_to_item_seconds(passes * midi.source_length_ppq) < item_length:
            passes += 1
    parts: dict[int, Part] = {}

    def part_for(channel: int) -> Part:
        if channel not in parts:
            label = f"{name} ch{channel + 1}" if name else f"ch{channel + 1}"
            parts[channel] = Part(name=label, channel=channel, is_drum=channel == 9)
        return parts[channel]

    eps = 1e-9
    programs: dict[int, int] = {}
    ccs = sorted(midi.ccs, key=lambda c: c.ppq)
    for k in range(passes):
        shift = k * midi.source_length_ppq
        for note in midi.notes:
            if note.muted or (loop and k > 0 and note.start_ppq >= midi.source_length_ppq):
                continue
            onset = ppq_to_item_seconds(note.start_ppq + shift)
            offset = min(ppq_to_item_seconds(note.end_ppq + shift), item_length)
            if onset < -eps or onset >= item_length - eps or offset <= onset:
                continue
            part_for(note.channel).notes.append(Note(note.pitch, max(0.0, onset), offset, note.velocity))
        for cc in ccs:
            if cc.muted:
                continue
            t = ppq_to_item_seconds(cc.ppq + shift)
            if cc.status == 0xC0:
                if k == 0 and cc.channel not in programs:  # the first program change names the instrument
                    programs[cc.channel] = cc.msg2
                    part_for(cc.channel).program = cc.msg2
                continue
            if t < -eps or t >= item_length:
                continue
            t = max(0.0, t)
            if cc.status == 0xB0:
                part_for(cc.channel).cc.setdefault(cc.msg2, []).append((t, cc.msg3))
            elif cc.status == 0xE0:
                bend = ((cc.msg3 << 7) | cc.msg2) - 8192
                part_for(cc.channel).pitch_bend.append((t, bend / 8192.0 * PITCH_BEND_RANGE))
    out = [p.sorted() for _, p in sorted(parts.items()) if p.notes]
    for part in out:
        for lane in part.cc.values():
            lane.sort()
        part.pitch_bend.sort()
    return Performance(parts=out)
