"""Read an .RPP's structure (with `rpp`): checked numbers, tempo map, sample rate, and each track's MIDI items.

Every number read is checked (finite, in range, the right type); a bad one is a ReaDDSPError naming the project
and the line. Item lengths are bounded (`MAX_ITEM_SECONDS`) so a render's memory stays bounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from rpp import Element

from readdsp.core.errors import ReaDDSPError
from readdsp.core.midi_rules import MAX_SECONDS, TakeMidi
from readdsp.core.tempo_map import TempoMap, check_bpm
from readdsp.reaper_ext.item_chunk import ItemChunk
from readdsp.reaper_ext.rpp_midi import has_events, parse_midi_source, pool_id, read_midi_file_events, ticks_per_qn
from readdsp.reaper_ext.rpp_read import loads
from readdsp.reaper_ext.take_timing import TakeTiming

MAX_ITEM_SECONDS = MAX_SECONDS
MAX_PROJECT_BYTES = 256 << 20
MAX_PROJECT_LINES = 2_000_000  # about 0.5 GB once parsed; 200,000 notes in an item take 400,000 lines
MIDI_SOURCES = ("MIDI", "MIDIPOOL")


def line_of(element: Element, key: str) -> list[str] | None:
    return next((c for c in element.children if isinstance(c, list) and c and c[0] == key), None)


def number(text: str | None, what: str, low: float = -math.inf, high: float = math.inf, default: float = 0.0) -> float:
    """`text` as a finite float in [low, high]; ReaDDSPError naming `what` otherwise (None gives `default`)."""
    if text is None:
        return default
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ReaDDSPError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ReaDDSPError(f"{what} {text!r} is outside {low:g}..{high:g}")
    return value


def load_project(path: Path) -> tuple[Element, str]:
    """The parsed project and its text (as read, for byte-exact editing)."""
    try:
        if path.is_dir():
            raise ReaDDSPError("is a directory, not a REAPER project", path)
        if path.stat().st_size > MAX_PROJECT_BYTES:
            raise ReaDDSPError(f"project larger than {MAX_PROJECT_BYTES >> 20} MB", path)
        text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    except FileNotFoundError:
        raise ReaDDSPError("project not found", path) from None
    except OSError as err:
        raise ReaDDSPError(f"cannot read the project ({err.strerror})", path) from None
    lines = text.count("\n") + 1
    if lines > MAX_PROJECT_LINES:
        raise ReaDDSPError(f"project of {lines} lines, over the {MAX_PROJECT_LINES} this reader takes", path)
    try:
        root = loads(text)
    except Exception as err:
        raise ReaDDSPError(f"not a REAPER project ({type(err).__name__}: {err})", path) from None
    if not isinstance(root, Element) or root.tag != "REAPER_PROJECT":
        raise ReaDDSPError("not a REAPER project (no <REAPER_PROJECT header)", path)
    return root, text


def project_tempo_map(root: Element) -> TempoMap:
    """TEMPO, then `<TEMPOENVEX` points `PT seconds bpm [shape]` (shape 0 = linear ramp to the next point)."""
    line = line_of(root, "TEMPO")
    bpm = check_bpm(line[1], "TEMPO") if line and len(line) > 1 else 120.0
    env = next((c for c in root.children if isinstance(c, Element) and c.tag == "TEMPOENVEX"), None)
    points = []
    for p in env.children if env is not None else []:
        if isinstance(p, list) and p[:1] == ["PT"]:
            if len(p) < 3:
                raise ReaDDSPError(f"tempo point {' '.join(p)!r} needs a time and a tempo")
            seconds = number(p[1], "tempo point time", 0.0, 1e7)
            shape = number(p[3], "tempo point shape", 0, 1e3) if len(p) > 3 else 0
            points.append((seconds, check_bpm(p[2], "tempo point"), int(shape) == 0))
    return TempoMap.from_seconds(points or [(0.0, bpm, False)], default_bpm=bpm)


def project_sample_rate(root: Element, default: int = 48000) -> int:
    line = line_of(root, "SAMPLERATE")
    if not line or len(line) < 2:
        return default
    rate = number(line[1], "SAMPLERATE", 0, 768_000)
    if rate and rate < 8000:
        raise ReaDDSPError(f"SAMPLERATE {line[1]!r} is below 8000")
    return int(rate) or default


def track_name(track: Element) -> str:
    line = line_of(track, "NAME")
    return line[1] if line and len(line) > 1 else ""


def tracks(root: Element) -> list[Element]:
    return [c for c in root.children if isinstance(c, Element) and c.tag == "TRACK"]


def items(track: Element) -> list[Element]:
    return [c for c in track.children if isinstance(c, Element) and c.tag == "ITEM"]


@dataclass
class ProjectTake:
    """An item's active MIDI take: its events, timing and length, ready for `take_to_performance`."""

    track_index: int
    item_index: int
    label: str
    chunk: ItemChunk
    midi: TakeMidi
    timing: TakeTiming
    length: float
    loop: bool


class MidiPools:
    """Pooled MIDI (`<SOURCE MIDIPOOL`, `POOLEDEVTS {id}`): each pool's events, from the source that holds them."""

    def __init__(self, root: Element):
        self.sources: dict[str, Element] = {}
        for source in _sources(root):
            ident = pool_id(source)
            if ident and ident not in self.sources and has_events(source):
                self.sources[ident] = source

    def events_of(self, source: Element) -> Element:
        ident = pool_id(source)
        if has_events(source) or not ident:
            return source
        return self.sources.get(ident, source)


def _sources(element: Element):
    for child in element.children:
        if isinstance(child, Element):
            if child.tag == "SOURCE" and child.attrib and child.attrib[0] in MIDI_SOURCES:
                yield child
            yield from _sources(child)


def midi_source_events(source: Element, pools: MidiPools, project_dir: Path) -> tuple[TakeMidi, int]:
    """Events and ticks per quarter note of a MIDI source: inline, from its pool, or from its external file."""
    file_line = line_of(source, "FILE")
    if file_line and len(file_line) > 1 and not has_events(source):
        path = (project_dir / file_line[1]).resolve()
        if not path.is_file():
            raise ReaDDSPError(f"the MIDI file {path} is missing")
        return read_midi_file_events(path)
    events = pools.events_of(source)
    return parse_midi_source(events), ticks_per_qn(events)


def read_take(
    root: Element, project_dir: Path, track_index: int, item_index: int, element: Element, label: str, pools: MidiPools
) -> ProjectTake | str:
    """The item's active MIDI take, or the reason it is skipped (a message)."""
    chunk = ItemChunk.parse(element)
    if chunk.active_index < 0:
        return f"{label}: skipped (empty item, no take)"
    take = chunk.takes[chunk.active_index]
    source = take.source
    if source is None or not source.attrib or source.attrib[0] not in MIDI_SOURCES:
        return f"{label}: skipped (not a MIDI take)"
    position = number(chunk.header_value("POSITION"), f"{label}: POSITION", -1e7, 1e7)
    length = number(chunk.header_value("LENGTH"), f"{label}: LENGTH", 0.0, math.inf)
    if length > MAX_ITEM_SECONDS:
        raise ReaDDSPError(f"{label}: LENGTH {length:g} s is over the {MAX_ITEM_SECONDS:g} s an item may render")
    loop = number(chunk.header_value("LOOP"), f"{label}: LOOP", 0, 1e9) != 0
    soffs = number(take.value("SOFFS"), f"{label}: SOFFS", -1e7, 1e7)
    rate = number(take.value("PLAYRATE"), f"{label}: PLAYRATE", 1e-3, 1e3, default=1.0)
    try:
        midi, tpq = midi_source_events(source, pools, project_dir)
    except ReaDDSPError as err:
        raise ReaDDSPError(f"{label}: {err}") from None
    timing = TakeTiming(project_tempo_map(root), position, soffs, rate, tpq)
    return ProjectTake(track_index, item_index, label, chunk, midi, timing, length, loop)


def is_muted(element: Element) -> bool:
    line = line_of(element, "MUTE")
    return bool(line and len(line) > 1 and number(line[1], "MUTE", 0, 1e9) != 0)
