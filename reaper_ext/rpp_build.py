"""Write REAPER project text: tracks of audio items (`<SOURCE WAVE`) and MIDI items (`E` event lines), as REAPER saves.

Used to draft annotations (`readdsp transcribe`), to build the generated guitar project and in tests. MIDI items
use REAPER's default 960 ticks per quarter note; event deltas are ticks from the previous event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from readdsp.reaper_ext.item_chunk import new_guid
from readdsp.reaper_ext.rpp_text import quote

TICKS_PER_QN = 960


@dataclass
class MidiEvent:
    """One channel event at a tick from the take start: `status` 0x90/0x80/0xB0/0xE0..., two data bytes."""

    tick: int
    status: int
    data1: int
    data2: int = 0
    muted: bool = False


@dataclass
class ItemSpec:
    """An item: position/length (s), and either an audio `file` or MIDI `events` (ticks at `TICKS_PER_QN`)."""

    position: float
    length: float
    name: str = ""
    file: str | None = None
    source_kind: str = "WAVE"
    events: list[MidiEvent] = field(default_factory=list)
    start_offset: float = 0.0
    play_rate: float = 1.0
    muted: bool = False
    pool_guid: str | None = None
    length_ticks: int | None = None  # a MIDI source's length; None: from the constant tempo `item_lines` is given


def midi_source_lines(events: list[MidiEvent], length_ticks: int, indent: str, pool_guid: str | None) -> list[str]:
    """`<SOURCE MIDI` with `HASDATA 1 960 QN`, events in order (deltas), and the end-of-source CC123 line."""
    lines = [f"{indent}<SOURCE MIDI", f"{indent}  HASDATA 1 {TICKS_PER_QN} QN"]
    if pool_guid:
        lines.append(f"{indent}  POOLEDEVTS {pool_guid}")
    tick = 0
    for event in sorted(events, key=lambda e: (e.tick, e.status & 0xF0 == 0x90)):
        flag = "Em" if event.muted else "E"
        lines.append(f"{indent}  {flag} {event.tick - tick} {event.status:02x} {event.data1:02x} {event.data2:02x}")
        tick = event.tick
    lines.append(f"{indent}  E {max(length_ticks - tick, 0)} b0 7b 00")
    lines.append(f"{indent}>")
    return lines


def item_lines(item: ItemSpec, ticks_per_second: float) -> list[str]:
    """One `<ITEM` chunk."""
    ind = "    "
    lines = [
        "  <ITEM",
        f"{ind}POSITION {item.position:.14g}",
        f"{ind}LENGTH {item.length:.14g}",
        f"{ind}LOOP 0",
        f"{ind}MUTE {int(item.muted)} 0",
        f"{ind}IGUID {new_guid()}",
        f"{ind}NAME {quote(item.name)}",
        f"{ind}SOFFS {item.start_offset:.14g}",
        f"{ind}PLAYRATE {item.play_rate:.14g} 1 0 -1 0 0.0025",
        f"{ind}GUID {new_guid()}",
    ]
    if item.file is not None:
        lines += [f"{ind}<SOURCE {item.source_kind}", f"{ind}  FILE {quote(item.file)}", f"{ind}>"]
    else:
        length_ticks = item.length_ticks
        if length_ticks is None:
            length_ticks = int(round((item.start_offset + item.length * item.play_rate) * ticks_per_second))
        lines += midi_source_lines(item.events, length_ticks, ind, item.pool_guid)
    lines.append("  >")
    return lines


def track_lines(name: str, items: list[ItemSpec], ticks_per_second: float = 2 * TICKS_PER_QN) -> list[str]:
    """One `<TRACK` chunk holding `items`, indented from the track's own column."""
    lines = ["<TRACK " + new_guid(), f"  NAME {quote(name)}"]
    for spec in items:
        lines += item_lines(spec, ticks_per_second)
    return [*lines, ">"]


def project_text(
    tracks: dict[str, list[ItemSpec]],
    bpm: float = 120.0,
    sample_rate: int = 48000,
    tempo_points: list[tuple[float, float, int]] | None = None,
) -> str:
    """A whole `.RPP`: `tracks` maps a track name to its items; `tempo_points` are (seconds, bpm, shape)."""
    lines = [
        '<REAPER_PROJECT 0.1 "7.0/linux-x86_64" 1700000000',
        f"  TEMPO {bpm:g} 4 4",
        f"  SAMPLERATE {sample_rate} 0 0",
    ]
    if tempo_points:
        lines.append("  <TEMPOENVEX")
        lines += [f"    PT {t:.14g} {b:.14g} {shape}" for t, b, shape in tempo_points]
        lines.append("  >")
    ticks_per_second = bpm / 60.0 * TICKS_PER_QN
    for name, specs in tracks.items():
        lines += ["  " + line for line in track_lines(name, specs, ticks_per_second)]
    lines.append(">")
    return "\n".join(lines) + "\n"
