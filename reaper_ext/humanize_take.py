"""Humanize a REAPER MIDI take as chunk text: a new take (the old one kept) whose note events carry learned
velocities and durations; every other event, and every line of the old take, stays as it was.

reapy 0.10's `MIDI_Set*` bindings are broken, so the new take is written into the item's state chunk. It is a
copy of the source take's lines with a new take GUID, name, MIDI source GUID and pool id (so it is not pooled
with the original) and P_EXT `readdsp_humanized_from` = the original take's GUID (what "Restore MIDI take"
goes back to). Event lines are `E`/`e` + flags, a tick delta and hex bytes (`reaper_ext/rpp_midi.py`); note-ons
get new velocities, paired note-offs new ticks (never past the next note of the key or the source end), and
the events are re-sorted with their deltas recomputed. Channel 10 (drums) is left alone. `notes_item_text` writes
the same kind of take with notes given exactly (the expression panel's humanized notes, note-ons may move too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from readdsp.core.errors import ReaDDSPError
from readdsp.core.humanize import humanize_part
from readdsp.core.midi_notes import DRUM_CHANNEL
from readdsp.core.performance_model import PerformanceModel
from readdsp.reaper_ext.item_chunk import TAKE_FIELDS, new_guid
from readdsp.reaper_ext.rpp_text import add_take_to_item_text, chunk_spans, indent_of, quote, split_lines, tokens

HUMANIZED_FROM = "readdsp_humanized_from"
_EVENT = re.compile(r"[Ee][a-z]*")
_HEX = re.compile(r"[0-9A-Fa-f]{1,2}")


@dataclass
class TakeContext:
    """Where the take's PPQ 0 sits in project quarter notes, and the bar length (quarters) there."""

    qn_at_ppq0: float = 0.0
    bar_quarters: float = 4.0


@dataclass
class _Unit:
    """One line or sub-chunk of a MIDI source: an event (with its absolute tick) or another line."""

    lines: list[str]
    tick: int | None = None
    group: int = 1  # sort group at a tick: moved note-offs first, then the rest in their old order


def take_region(lines: list[str], take_guid: str) -> tuple[int, int, str, bool]:
    """[start, end) of the take's lines inside the item text (end excludes the next `TAKE` line), the item's
    own indentation and whether it is the first take; ReaDDSPError if the item has no take with this GUID."""
    item = next((s for s in chunk_spans(lines) if s.tag == "ITEM" and not s.path), None)
    if item is None:
        raise ReaDDSPError("not an <ITEM chunk")
    starts, guid_line, depth, indent = [item.start + 1], None, 0, None
    for index in range(item.start + 1, item.end):
        stripped = lines[index].strip()
        if stripped.startswith("<"):
            depth += 1
            continue
        if stripped == ">":
            depth -= 1
            continue
        if depth:
            continue
        indent = indent_of(lines[index]) if indent is None else indent
        first = tokens(lines[index])[:2]
        if first and first[0][0] == "TAKE":
            starts.append(index)
        elif len(first) == 2 and first[0][0] == "GUID" and first[1][0] == take_guid:
            guid_line = index
    if guid_line is None:
        raise ReaDDSPError(f"the item has no take {take_guid[:60]}")
    start = max(s for s in starts if s < guid_line)
    end = min([s for s in starts if s > guid_line] + [item.end])
    return start, end, indent or "", start == item.start + 1


def _take_lines(lines: list[str], start: int, end: int, indent: str, first_take: bool) -> list[str]:
    """The take's lines without the item's indentation or line endings (a first take's lines picked from the
    item's own lines by REAPER's take fields)."""
    out, depth, keep = [], 0, True
    for line in lines[start:end]:
        stripped = line.strip()
        if depth == 0:
            tag = stripped.lstrip("<").split(None, 1)[0] if stripped else ""
            keep = not first_take or tag in TAKE_FIELDS
            if tag == "TAKE":
                keep = False
        if stripped.startswith("<"):
            depth += 1
        elif stripped == ">":
            depth -= 1
        if keep:
            text = line.rstrip("\r\n")
            out.append(text[len(indent) :] if text.startswith(indent) else text.lstrip(" \t"))
    return out


def humanized_item_text(
    item_text: str,
    take_guid: str,
    model: PerformanceModel,
    amount: float = 1.0,
    seed: int = 0,
    context: TakeContext | None = None,
) -> tuple[str, str, int]:
    """(item chunk text with the humanized copy of take `take_guid` added and made active, the new take's GUID,
    notes humanized); ReaDDSPError naming the problem if the take cannot be humanized."""
    context = context or TakeContext()
    lines = split_lines(item_text)
    start, end, indent, first_take = take_region(lines, take_guid)
    take = _take_lines(lines, start, end, indent, first_take)
    guid = new_guid()
    take = _rename(take, guid)
    take, notes = _humanize_source(take, model, amount, seed, context)
    take = _with_ext(take, HUMANIZED_FROM, take_guid)
    return add_take_to_item_text(item_text, ["TAKE SEL", *take]), guid, notes


NoteKey = tuple[int, int, int]  # (channel, pitch, note-on tick) of a note in the take's MIDI source
NoteChange = tuple[int, int, int]  # (velocity, new note-on tick, new note-off tick)


def notes_item_text(
    item_text: str, take_guid: str, changes: dict[NoteKey, NoteChange], expression: str | None = None
) -> tuple[str, str, int]:
    """(item chunk text with a copy of take `take_guid` added and made active whose notes carry exactly `changes`,
    the new take's GUID, notes changed): what the expression panel shows, written as REAPER's new MIDI take. The
    copy's P_EXT `readdsp_expression` is `expression` when given (the panel's edits of those notes)."""
    lines = split_lines(item_text)
    start, end, indent, first_take = take_region(lines, take_guid)
    guid = new_guid()
    take = _rename(_take_lines(lines, start, end, indent, first_take), guid)
    take, count = _set_source_notes(take, changes)
    take = _with_ext(take, HUMANIZED_FROM, take_guid)
    if expression is not None:
        take = _with_ext(take, "readdsp_expression", expression)
    return add_take_to_item_text(item_text, ["TAKE SEL", *take]), guid, count


def _set_source_notes(take: list[str], changes: dict[NoteKey, NoteChange]) -> tuple[list[str], int]:
    """The take with each note of `changes` given its velocity and ticks (never past the source end, and never past
    the next note of its key); ReaDDSPError if a note of `changes` is not in the take."""
    start, close = _source_span(take)
    body = take[start + 1 : close]
    if any(tokens(t)[:1] and tokens(t)[0][0] == "FILE" for t in body):
        raise ReaDDSPError("the MIDI take plays an external file; import it into the project first")
    units = _units(body)
    notes = _pair_notes(units)
    end_tick = max((u.tick for u in units if u.tick is not None), default=0)
    found = 0
    for on, off, channel in notes:
        change = changes.get((channel, int(_event(units[on])[3], 16), units[on].tick))
        if change is None:
            continue
        velocity, new_on, new_off = change
        toks = _event(units[on])
        units[on].lines = [_event_line(units[on].lines[0], toks, 4, f"{min(max(velocity, 1), 127):02x}")]
        new_on = min(max(int(new_on), 0), end_tick)
        if new_on != units[on].tick:
            units[on].tick, units[on].group = new_on, 2
        new_off = max(min(int(new_off), end_tick), new_on + 1)
        if off >= 0 and new_off != units[off].tick:
            units[off].tick, units[off].group = new_off, 0
        found += 1
    if found != len(changes):
        raise ReaDDSPError(f"{len(changes) - found} note(s) no longer match the take; reopen the panel on it")
    for channel in sorted({c for _, _, c in notes}):
        part = [n for n in notes if n[2] == channel]
        _limit_to_next_onset(units, part, np.array([int(_event(units[on])[3], 16) for on, _, _ in part]))
    return take[: start + 1] + _write_units(units) + take[close:], found


def notes_edit(expression: str | None = None):
    """The edit `ReaperBridge.add_midi_take_with_notes` applies: (item text, take GUID, changes) -> (text, GUID,
    notes changed), the new take carrying `expression` as its saved expression."""

    def edit(item_text: str, take_guid: str, changes: dict[NoteKey, NoteChange]) -> tuple[str, str, int]:
        return notes_item_text(item_text, take_guid, changes, expression)

    return edit


def humanize_edit(amount: float = 1.0, seed: int = 0):
    """The edit `ReaperBridge.add_midi_takes` applies: (item text, take GUID, context dict) -> (text, GUID, notes),
    with the bundled performance model (loaded once per process)."""
    from readdsp.core.humanize import default_model

    def edit(item_text: str, take_guid: str, context: dict) -> tuple[str, str, int]:
        qn, bar = float(context.get("qn_at_ppq0", 0.0)), float(context.get("bar_quarters", 4.0))
        where = TakeContext(qn if np.isfinite(qn) else 0.0, bar if np.isfinite(bar) and 0.25 <= bar <= 64 else 4.0)
        return humanized_item_text(item_text, take_guid, default_model(), amount, seed, where)

    return edit


def _rename(take: list[str], guid: str) -> list[str]:
    """New take name and GUID (depth 0), new source GUID and pool id (inside `<SOURCE`)."""
    out, depth = [], 0
    for line in take:
        toks = tokens(line)
        key = toks[0][0] if toks else ""
        stripped = line.strip()
        if depth == 0 and key == "NAME":
            name = toks[1][0] if len(toks) > 1 else ""
            line = f"NAME {quote((name + ' (humanized)').strip())}"
        elif depth == 0 and key == "GUID":
            line = f"GUID {guid}"
        elif depth == 1 and key in ("GUID", "POOLEDEVTS"):
            line = line[: toks[0][1]] + f"{key} {new_guid()}"
        if stripped.startswith("<"):
            depth += 1
        elif stripped == ">":
            depth -= 1
        out.append(line)
    if not any(tokens(line)[:1] and tokens(line)[0][0] == "NAME" for line in out):
        out.insert(0, 'NAME "(humanized)"')
    return out


def _with_ext(take: list[str], key: str, value: str) -> list[str]:
    """The take's `<EXT` block (P_EXT data) with `key` set, added at the end if there is none."""
    line = f"  {quote(key)} {quote(value)}"
    for index, text in enumerate(take):
        if text.strip().startswith("<EXT") and indent_of(text) == "":
            close = next(i for i in range(index + 1, len(take)) if take[i] == ">")
            kept = [t for t in take[index + 1 : close] if tokens(t)[:1] and tokens(t)[0][0] != key]
            return take[: index + 1] + kept + [line] + take[close:]
    return [*take, "<EXT", line, ">"]


def _source_span(take: list[str]) -> tuple[int, int]:
    """[start, end] of the take's `<SOURCE MIDI` block; ReaDDSPError if the take is not inline MIDI."""
    for index, text in enumerate(take):
        toks = tokens(text)
        if indent_of(text) == "" and toks and toks[0][0] == "<SOURCE":
            if len(toks) < 2 or toks[1][0] != "MIDI":
                raise ReaDDSPError("not a MIDI take")
            close = next((i for i in range(index + 1, len(take)) if take[i] == ">"), None)
            if close is None:
                raise ReaDDSPError("the MIDI source block is not closed")
            return index, close
    raise ReaDDSPError("the take has no source")


def _units(body: list[str]) -> list[_Unit]:
    """A MIDI source's lines as units: event lines and `<X` blocks with absolute ticks, other lines tickless."""
    units: list[_Unit] = []
    tick, index = 0, 0
    while index < len(body):
        text = body[index]
        toks = [t[0] for t in tokens(text)]
        if text.strip().startswith("<"):
            depth, close = 0, index
            for close in range(index, len(body)):
                stripped = body[close].strip()
                depth += stripped.startswith("<") - (stripped == ">")
                if depth == 0:
                    break
            block = body[index : close + 1]
            if toks[0] in ("<X", "<x") and len(toks) > 1 and toks[1].isdigit():
                tick += int(toks[1])
                units.append(_Unit(block, tick))
            else:
                units.append(_Unit(block))
            index = close + 1
            continue
        if toks and _EVENT.fullmatch(toks[0]):
            if len(toks) < 4 or not re.fullmatch(r"\d{1,15}", toks[1]) or not all(_HEX.fullmatch(t) for t in toks[2:5]):
                raise ReaDDSPError(f"MIDI event line {text.strip()[:60]!r} is not `E delta status data [data]`")
            tick += int(toks[1])
            units.append(_Unit([text], tick))
        else:
            units.append(_Unit([text]))
        index += 1
    return units


def _event(unit: _Unit) -> list[str] | None:
    toks = [t[0] for t in tokens(unit.lines[0])]
    return toks if len(unit.lines) == 1 and toks and _EVENT.fullmatch(toks[0]) else None


def _humanize_source(
    take: list[str], model: PerformanceModel, amount: float, seed: int, context: TakeContext
) -> tuple[list[str], int]:
    start, close = _source_span(take)
    body = take[start + 1 : close]
    if any(tokens(t)[:1] and tokens(t)[0][0] == "FILE" for t in body):
        raise ReaDDSPError("the MIDI take plays an external file; import it into the project first")
    tpq_line = next((tokens(t) for t in body if tokens(t)[:1] and tokens(t)[0][0] == "HASDATA"), None)
    tpq = int(tpq_line[2][0]) if tpq_line and len(tpq_line) > 2 and tpq_line[2][0].isdigit() else 960
    if not 0 < tpq <= 1 << 20:
        raise ReaDDSPError(f"HASDATA ticks per quarter note {tpq} is out of range")
    units = _units(body)
    notes = _pair_notes(units)
    if not notes:
        raise ReaDDSPError("no notes to humanize (drums on channel 10 are left alone)")
    end_tick = max(u.tick for u in units if u.tick is not None)
    by_channel: dict[int, list[tuple[int, int, int]]] = {}
    for on, off, channel in notes:
        by_channel.setdefault(channel, []).append((on, off, channel))
    for part_index, (_, part) in enumerate(sorted(by_channel.items())):
        ons = np.array([units[on].tick for on, _, _ in part], float)
        offs = np.array([units[off].tick if off >= 0 else units[on].tick + 1 for on, off, _ in part], float)
        pitch = np.array([int(_event(units[on])[3], 16) for on, _, _ in part])
        velocity = np.array([int(_event(units[on])[4], 16) for on, _, _ in part])
        result = humanize_part(
            model,
            pitch,
            context.qn_at_ppq0 + ons / tpq,
            np.maximum(offs - ons, 1) / tpq,
            velocity,
            [(0.0, context.bar_quarters)],
            amount,
            False,
            seed + part_index,
        )
        ends = np.minimum(np.round(ons + (offs - ons) * result.duration_factor), end_tick).astype(int)
        ends = np.maximum(ends, ons.astype(int) + 1)
        for i, (on, off, _) in enumerate(part):
            toks = _event(units[on])
            units[on].lines = [_event_line(units[on].lines[0], toks, 4, f"{int(result.velocity[i]):02x}")]
            if off >= 0 and int(ends[i]) != units[off].tick:
                units[off].tick, units[off].group = int(ends[i]), 0
        _limit_to_next_onset(units, part, pitch)
    return take[: start + 1] + _write_units(units) + take[close:], len(notes)


def _pair_notes(units: list[_Unit]) -> list[tuple[int, int, int]]:
    """(note-on unit, note-off unit or -1, channel) of each non-drum note: a note-on pairs with the next
    note-off of its key unless another note-on of the key comes first."""
    open_notes: dict[tuple[int, int], int] = {}
    notes: list[tuple[int, int, int]] = []
    for index, unit in enumerate(units):
        toks = _event(unit)
        if toks is None or len(toks) < 4:
            continue
        status, key = int(toks[2], 16), int(toks[3], 16)
        kind, channel = status & 0xF0, status & 0x0F
        if channel == DRUM_CHANNEL or kind not in (0x80, 0x90):
            continue
        velocity = int(toks[4], 16) if len(toks) > 4 else 0
        if kind == 0x90 and velocity > 0:
            if (channel, key) in open_notes:
                notes.append((open_notes.pop((channel, key)), -1, channel))
            open_notes[(channel, key)] = index
        elif (channel, key) in open_notes:
            notes.append((open_notes.pop((channel, key)), index, channel))
    notes += [(on, -1, channel) for (channel, _), on in open_notes.items()]
    return sorted(notes)


def _limit_to_next_onset(units: list[_Unit], part: list[tuple[int, int, int]], pitch: np.ndarray) -> None:
    """A note-off never passes the next note-on of its key (so notes stay paired as they were)."""
    ordered = sorted(range(len(part)), key=lambda i: units[part[i][0]].tick)
    following: dict[int, int] = {}
    for i in reversed(ordered):
        on, off, _ = part[i]
        nxt = following.get(int(pitch[i]))
        if off >= 0 and nxt is not None and units[off].tick > nxt:
            units[off].tick, units[off].group = nxt, 0
        following[int(pitch[i])] = units[on].tick


def _event_line(line: str, toks: list[str], field: int, value: str) -> str:
    spans = tokens(line)
    return line[: spans[field][1]] + value + line[spans[field][2] :]


def _write_units(units: list[_Unit]) -> list[str]:
    """Events sorted by (tick, group, old order) with deltas recomputed, where the first event was; every other
    line in its old order (non-event lines move no time)."""
    events = sorted((u.tick, u.group, i) for i, u in enumerate(units) if u.tick is not None)
    first = next((i for i, u in enumerate(units) if u.tick is not None), len(units))
    written, previous = [], 0
    for tick, _, index in events:
        unit = units[index]
        spans = tokens(unit.lines[0])
        head = unit.lines[0]
        head = head[: spans[1][1]] + str(tick - previous) + head[spans[1][2] :]
        written += [head, *unit.lines[1:]]
        previous = tick
    before = [line for u in units[:first] for line in u.lines]
    after = [line for u in units[first:] if u.tick is None for line in u.lines]
    return before + written + after
