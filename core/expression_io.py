"""Per-note expression tables as JSON: export what a render used, edit it, and feed it back as overrides."""

from __future__ import annotations

import json
import math
from pathlib import Path

from readdsp.core.atomic import write_json
from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import CONTROL_NAMES, Performance, checked_controls

EXPRESSION_FORMAT = "readdsp-expression/1"


def expression_table(performance: Performance) -> list[dict]:
    """One row per note: part index, note index, pitch, onset, offset and its six controls (if set)."""
    rows = []
    for p, part in enumerate(performance.parts):
        for n, note in enumerate(part.notes):
            row = {
                "part": p,
                "note": n,
                "pitch": note.pitch,
                "onset": round(note.onset, 6),
                "offset": round(note.offset, 6),
            }
            if note.expression is not None:
                row.update({name: round(float(v), 4) for name, v in zip(CONTROL_NAMES, note.expression, strict=True)})
            rows.append(row)
    return rows


def save_expression(performance: Performance, path: str | Path) -> Path:
    """Write the expression table of a performance (atomic)."""
    return write_json(
        path,
        {
            "format": EXPRESSION_FORMAT,
            "controls": list(CONTROL_NAMES),
            "notes": expression_table(performance),
        },
    )


ROW_FIELDS = frozenset({"part", "note", "pitch", "onset", "offset", *CONTROL_NAMES})
MAX_ROWS = 1_000_000


def _index(row: dict, key: str, where: str, path: Path) -> int:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ReaDDSPError(f'{where}: "{key}" must be a whole number from 0 (got {value!r})', path)
    return value


def load_expression(path: str | Path) -> list[dict]:
    """Read an expression file; a one-line error for anything malformed.

    Each row needs whole-number "part" and "note" (from 0); "pitch" is a MIDI pitch 0..127; "onset" and "offset"
    are finite numbers; controls are finite numbers (clipped to [0, 1]); any other field is an error.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReaDDSPError("expression file not found", path) from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ReaDDSPError(f"not a valid JSON expression file ({err})", path) from None
    if not isinstance(data, dict) or not isinstance(data.get("notes"), list):
        raise ReaDDSPError('expected an object with a "notes" list', path)
    if len(data["notes"]) > MAX_ROWS:
        raise ReaDDSPError(f"more than {MAX_ROWS} notes", path)
    rows = []
    for i, row in enumerate(data["notes"]):
        where = f"notes[{i}]"
        if not isinstance(row, dict):
            raise ReaDDSPError(f"{where} must be an object", path)
        unknown = sorted(str(k) for k in row if k not in ROW_FIELDS)
        if unknown:
            raise ReaDDSPError(
                f"{where}: unknown field(s) {', '.join(unknown)}; controls are {', '.join(CONTROL_NAMES)}", path
            )
        checked: dict[str, int | float] = {
            "part": _index(row, "part", where, path),
            "note": _index(row, "note", where, path),
        }
        if "pitch" in row:
            pitch = row["pitch"]
            if isinstance(pitch, bool) or not isinstance(pitch, int) or not 0 <= pitch <= 127:
                raise ReaDDSPError(f'{where}: "pitch" must be a MIDI pitch 0..127 (got {pitch!r})', path)
            checked["pitch"] = pitch
        for key in ("onset", "offset"):
            if key in row:
                value = row[key]
                if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                    raise ReaDDSPError(f'{where}: "{key}" must be a finite number of seconds (got {value!r})', path)
                checked[key] = value
        names = [name for name in CONTROL_NAMES if name in row]
        try:
            values = checked_controls([row[name] for name in names], where)
        except ReaDDSPError as err:
            raise ReaDDSPError(err.problem, path) from None
        checked.update({name: float(v) for name, v in zip(names, values, strict=True)})
        rows.append(checked)
    return rows


def apply_expression(performance: Performance, rows: list[dict], path: str | Path | None = None) -> int:
    """Set the controls named in `rows` (from `load_expression`) on the matching notes; returns the notes changed.

    A row whose pitch disagrees with the note it points at is an error: the file was made for another MIDI file.
    """
    changed = 0
    for row in rows:
        try:
            note = performance.parts[row["part"]].notes[row["note"]]
        except IndexError:
            raise ReaDDSPError(f"no note {row['note']} in part {row['part']}", path) from None
        if "pitch" in row and row["pitch"] != note.pitch:
            raise ReaDDSPError(
                f"part {row['part']} note {row['note']} has pitch {note.pitch}, the file says {row['pitch']}",
                path,
            )
        values = {name: row[name] for name in CONTROL_NAMES if name in row}
        if values:
            note.set_controls(**values)
            changed += 1
    return changed
