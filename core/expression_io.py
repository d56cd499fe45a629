"""Per-note expression tables as JSON: export what a render used, edit it, and feed it back as overrides."""

from __future__ import annotations

import json
from pathlib import Path

from readdsp.core.atomic import write_json
from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import CONTROL_NAMES, Performance

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


def load_expression(path: str | Path) -> list[dict]:
    """Read an expression file; a one-line error for anything malformed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReaDDSPError("expression file not found", path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ReaDDSPError(f"not a valid JSON expression file ({err})", path) from None
    if not isinstance(data, dict) or not isinstance(data.get("notes"), list):
        raise ReaDDSPError('expected an object with a "notes" list', path)
    for i, row in enumerate(data["notes"]):
        if not isinstance(row, dict) or not isinstance(row.get("part"), int) or not isinstance(row.get("note"), int):
            raise ReaDDSPError(f'notes[{i}] needs integer "part" and "note" fields', path)
        for name in CONTROL_NAMES:
            if name in row and not isinstance(row[name], int | float):
                raise ReaDDSPError(f"notes[{i}].{name} must be a number", path)
    return data["notes"]


def apply_expression(performance: Performance, rows: list[dict], path: str | Path | None = None) -> int:
    """Set the controls named in `rows` on the matching notes (others untouched); returns the notes changed.

    A row whose pitch disagrees with the note it points at is an error: the file was made for another MIDI file.
    """
    changed = 0
    for row in rows:
        try:
            note = performance.parts[row["part"]].notes[row["note"]]
        except IndexError:
            raise ReaDDSPError(f"no note {row['note']} in part {row['part']}", path) from None
        if "pitch" in row and int(row["pitch"]) != note.pitch:
            raise ReaDDSPError(
                f"part {row['part']} note {row['note']} has pitch {note.pitch}, the file says {row['pitch']}",
                path,
            )
        values = {name: float(row[name]) for name in CONTROL_NAMES if name in row}
        if values:
            note.set_controls(**values)
            changed += 1
    return changed
