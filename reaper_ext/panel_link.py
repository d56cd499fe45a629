"""What the engine hands the expression panel: one MIDI take as a `readdsp-item/1` JSON file (datagrams stop at 8 KB).

The engine writes the file in its temp folder and replies with its path; the panel reads it (every number checked)
and deletes it. The panel sends its edits the same way: a `readdsp-expression/1` file whose path goes in
`/readdsp/store_expression`, and its humanized notes as a `readdsp-notes/1` file for `/readdsp/humanize_notes`.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from readdsp.core.atomic import write_json
from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import Note, Part, Performance

ITEM_FORMAT = "readdsp-item/1"
MAX_FILE_BYTES = 256 << 20
MAX_BARS = 10_000


class BarLine(NamedTuple):
    """A project bar as the item file carries it (`bars`): start in seconds from the item start, REAPER's bar
    number, time signature, tempo at the start in quarter notes per minute."""

    seconds: float
    number: int
    numerator: int
    denominator: int
    bpm: float


@dataclass
class LinkedItem:
    """A REAPER MIDI take as the panel sees it: its notes (seconds from the item start) and its saved take data."""

    take: str
    name: str
    length: float
    instrument: str
    seed: int
    expression: str  # P_EXT readdsp_expression as saved ("" if none)
    performance: Performance
    bars: list[BarLine] = field(default_factory=list)  # REAPER's bars over the item (empty: none were sent)


def item_document(
    take: str, name: str, length: float, ext: dict[str, str], performance: Performance, bars: Sequence = ()
) -> dict:
    """The `readdsp-item/1` document; `bars` are (seconds, number, numerator, denominator, bpm) rows."""
    seed = ext.get("seed", "0")
    return {
        "format": ITEM_FORMAT,
        "take": take,
        "name": name,
        "length": length,
        "instrument": ext.get("instrument", ""),
        "seed": int(seed) if seed.isdigit() else 0,
        "expression": ext.get("expression", ""),
        "tempo_map": [list(t) for t in performance.tempo_map],
        "time_signatures": [list(t) for t in performance.time_signatures],
        "bars": [list(b) for b in bars],
        "parts": [
            {
                "name": p.name,
                "program": p.program,
                "channel": p.channel,
                "is_drum": p.is_drum,
                "instrument": p.instrument,
                "notes": [[n.pitch, n.onset, n.offset, n.velocity] for n in p.notes],
                "cc": {str(k): [list(e) for e in v] for k, v in p.cc.items()},
                "pitch_bend": [list(e) for e in p.pitch_bend],
            }
            for p in performance.parts
        ],
    }


def write_item_file(folder: Path, document: dict, prefix: str) -> Path:
    return write_json(folder / f"{prefix}{uuid.uuid4().hex[:12]}.json", document)


def _number(value: object, where: str, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ReaDDSPError(f"{where}: expected a finite number, got {str(value)[:40]!r}")
    if not low <= value <= high:
        raise ReaDDSPError(f"{where}: {value} is outside {low}..{high}")
    return float(value)


def _whole(value: object, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReaDDSPError(f"{where}: expected a whole number, got {str(value)[:40]!r}")
    return int(_number(value, where, low, high))


def _pairs(rows: object, where: str, low: float, high: float) -> list[tuple[float, float]]:
    if not isinstance(rows, list):
        raise ReaDDSPError(f"{where}: expected a list")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 2:
            raise ReaDDSPError(f"{where}[{i}]: expected [time, value]")
        out.append((_number(row[0], f"{where}[{i}]"), _number(row[1], f"{where}[{i}]", low, high)))
    return out


def _part(data: object, where: str) -> Part:
    if not isinstance(data, dict) or not isinstance(data.get("notes"), list) or not isinstance(data.get("cc"), dict):
        raise ReaDDSPError(f"{where}: expected an object with notes and cc")
    notes = []
    for i, row in enumerate(data["notes"]):
        if not isinstance(row, list) or len(row) != 4:
            raise ReaDDSPError(f"{where} notes[{i}]: expected [pitch, onset, offset, velocity]")
        w = f"{where} notes[{i}]"
        onset = _number(row[1], w)
        notes.append(Note(_whole(row[0], w, 0, 127), onset, _number(row[2], w, onset), _whole(row[3], w, 0, 127)))
    cc = {}
    for key, events in data["cc"].items():
        if not str(key).isdigit() or int(key) > 127:
            raise ReaDDSPError(f"{where}: CC number {str(key)[:10]!r}")
        cc[int(key)] = [(t, int(v)) for t, v in _pairs(events, f"{where} cc {key}", 0, 127)]
    name, instrument = data.get("name", ""), data.get("instrument")
    if not isinstance(name, str) or not (instrument is None or isinstance(instrument, str)):
        raise ReaDDSPError(f"{where}: name and instrument must be strings")
    return Part(
        name=name,
        program=_whole(data.get("program", 0), where, 0, 127),
        channel=_whole(data.get("channel", 0), where, 0, 15),
        is_drum=bool(data.get("is_drum", False)),
        instrument=instrument,
        notes=notes,
        cc=cc,
        pitch_bend=_pairs(data.get("pitch_bend", []), f"{where} pitch_bend", -96, 96),
    )


def _bars(rows: object) -> list[BarLine]:
    if not isinstance(rows, list) or len(rows) > MAX_BARS:
        raise ReaDDSPError(f"bars: expected a list of at most {MAX_BARS}")
    bars = []
    for i, row in enumerate(rows):
        where = f"bars[{i}]"
        if not isinstance(row, list) or len(row) != 5:
            raise ReaDDSPError(f"{where}: expected [seconds, bar, numerator, denominator, bpm]")
        seconds = _number(row[0], where, bars[-1].seconds if bars else -math.inf)
        number = _whole(row[1], where, -(2**31), 2**31 - 1)
        bpm = _number(row[4], where, 1.0, 10000.0)
        bars.append(BarLine(seconds, number, _whole(row[2], where, 1, 64), _whole(row[3], where, 1, 64), bpm))
    return bars


def _read_json(path: Path, what: str) -> object:
    """The JSON in `path`, at most MAX_FILE_BYTES; a one-line ReaDDSPError naming the file otherwise."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ReaDDSPError(f"over {MAX_FILE_BYTES} bytes", path)
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ReaDDSPError(f"cannot read {what} ({err})", path) from None


def read_item_file(path: Path) -> LinkedItem:
    """A `readdsp-item/1` file; a one-line ReaDDSPError naming the file for anything malformed."""
    data = _read_json(path, "the engine's item file")
    try:
        if not isinstance(data, dict) or data.get("format") != ITEM_FORMAT or not isinstance(data.get("parts"), list):
            raise ReaDDSPError(f"not a {ITEM_FORMAT} file")
        texts = [data.get(k) for k in ("take", "name", "instrument", "expression")]
        if not all(isinstance(t, str) for t in texts):
            raise ReaDDSPError("take, name, instrument and expression must be strings")
        tempo = _pairs(data.get("tempo_map"), "tempo_map", 1.0, 10000.0)
        signatures = []
        for i, row in enumerate(data.get("time_signatures") or []):
            if not isinstance(row, list) or len(row) != 3:
                raise ReaDDSPError(f"time_signatures[{i}]: expected [time, numerator, denominator]")
            where = f"time_signatures[{i}]"
            signatures.append((_number(row[0], where), _whole(row[1], where, 1, 64), _whole(row[2], where, 1, 64)))
        bars = _bars(data.get("bars", []))
        parts = [_part(p, f"parts[{i}]") for i, p in enumerate(data["parts"])]
        performance = Performance(parts=parts, tempo_map=tempo or [(0.0, 120.0)], source=texts[1])
        if signatures:
            performance.time_signatures = signatures
        return LinkedItem(
            texts[0],
            texts[1],
            _number(data.get("length"), "length", 0.0),
            texts[2],
            _whole(data.get("seed", 0), "seed", 0, 2**31 - 1),
            texts[3],
            performance,
            bars,
        )
    except ReaDDSPError as err:
        raise ReaDDSPError(err.problem, path) from None


NOTES_FORMAT = "readdsp-notes/1"


class NoteRow(NamedTuple):
    """One note the panel changed: its channel and pitch, its onset as REAPER gave it (seconds from the item start),
    and its new velocity, onset and offset."""

    channel: int
    pitch: int
    onset: float
    velocity: int
    new_onset: float
    new_offset: float


def notes_document(rows: Sequence[NoteRow], expression: str) -> dict:
    """The `readdsp-notes/1` document of `/readdsp/humanize_notes`: the changed notes and the take's new expression."""
    return {"format": NOTES_FORMAT, "expression": expression, "notes": [list(row) for row in rows]}


def read_notes_file(path: Path) -> tuple[list[NoteRow], str]:
    """(rows, expression text) of a `readdsp-notes/1` file; a one-line ReaDDSPError naming the file if malformed."""
    data = _read_json(path, "the panel's notes file")
    try:
        if not isinstance(data, dict) or data.get("format") != NOTES_FORMAT or not isinstance(data.get("notes"), list):
            raise ReaDDSPError(f"not a {NOTES_FORMAT} file")
        if not isinstance(data.get("expression"), str):
            raise ReaDDSPError("expression must be a string")
        rows = []
        for i, row in enumerate(data["notes"]):
            where = f"notes[{i}]"
            if not isinstance(row, list) or len(row) != 6:
                raise ReaDDSPError(f"{where}: expected [channel, pitch, onset, velocity, new onset, new offset]")
            new_onset = _number(row[4], where, 0.0)
            rows.append(
                NoteRow(
                    _whole(row[0], where, 0, 15),
                    _whole(row[1], where, 0, 127),
                    _number(row[2], where, 0.0),
                    _whole(row[3], where, 1, 127),
                    new_onset,
                    _number(row[5], where, new_onset),
                )
            )
        return rows, data["expression"]
    except ReaDDSPError as err:
        raise ReaDDSPError(err.problem, path) from None
