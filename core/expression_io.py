"""Per-note expression tables as JSON (`readdsp-expression/1`): the panel's sidecar, a take's P_EXT, render overrides.

Rows carry the note's part, index, pitch and onset. `apply_expression` (files given on the command line) rejects a
file whose rows disagree with the MIDI; `match_expression` (a take's saved edits, which outlive MIDI edits) applies
each row to the note it still matches and reports the rows that match none. Rows in the old P_EXT form
`[part, note, [6 controls]]` carry no pitch or onset: `parse_expression_text` reads them with a warning and they
apply by index (the next save writes them in this format).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from readdsp.core.atomic import write_json
from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import CONTROL_NAMES, N_CONTROLS, Note, Performance, checked_controls

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


def expression_document(performance: Performance) -> dict:
    return {"format": EXPRESSION_FORMAT, "controls": list(CONTROL_NAMES), "notes": expression_table(performance)}


def save_expression(performance: Performance, path: str | Path) -> Path:
    """Write the expression table of a performance (atomic)."""
    return write_json(path, expression_document(performance))


def edits_only(performance: Performance) -> Performance:
    """A copy holding only the user's edits (generated values dropped, so 'reset' survives a reload)."""
    edits = performance.copy()
    for part in edits.parts:
        for note in part.notes:
            if not note.is_edited():
                note.expression = None
    return edits


def expression_text(performance: Performance) -> str:
    """The edited notes' rows as compact one-line JSON (what a take's P_EXT `readdsp_expression` holds)."""
    document = expression_document(edits_only(performance))
    document["notes"] = [row for row in document["notes"] if CONTROL_NAMES[0] in row]
    return json.dumps(document, separators=(",", ":"))


ROW_FIELDS = frozenset({"part", "note", "pitch", "onset", "offset", *CONTROL_NAMES})
MAX_ROWS = 1_000_000


def _index(row: dict, key: str, where: str, path: str | Path | None) -> int:
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
    return parse_expression(data, path)


def parse_expression(data: object, path: str | Path | None = None) -> list[dict]:
    """The checked rows of a parsed `readdsp-expression/1` document (see `load_expression`)."""
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


ONSET_TOLERANCE_S = 0.002  # a saved onset matches a note starting within 2 ms (tempo-map rounding, PPQ grid)


def legacy_rows(rows: list, where: str) -> list[dict]:
    """Rows in the old P_EXT form `[part, note, [6 controls]]` as expression rows (no pitch, no onset)."""
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 3 or not isinstance(row[2], list) or len(row[2]) != N_CONTROLS:
            raise ReaDDSPError(f"{where}: notes[{i}] must be [part, note, [{N_CONTROLS} controls]]")
        part, note, values = row
        for index in (part, note):
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                raise ReaDDSPError(f"{where}: notes[{i}] has index {index!r}; expected a whole number from 0")
        controls = checked_controls(values, f"{where} notes[{i}]")
        out.append({"part": part, "note": note, **{n: float(v) for n, v in zip(CONTROL_NAMES, controls, strict=True)}})
    return out


def parse_expression_text(text: str, where: str) -> tuple[list[dict], list[str]]:
    """Rows and warnings from JSON text (a take's saved edits); a one-line ReaDDSPError naming `where` if malformed.

    Old rows `[part, note, [6 controls]]` are read with a warning: they cannot be checked against the MIDI.
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ReaDDSPError(f"{where} is not valid JSON ({err})") from None
    rows = data.get("notes") if isinstance(data, dict) else None
    if isinstance(rows, list) and rows and all(isinstance(row, list) for row in rows):
        if len(rows) > MAX_ROWS:
            raise ReaDDSPError(f"{where}: more than {MAX_ROWS} notes")
        warning = (
            f"{where}: {len(rows)} row(s) in the old [part, note, controls] form carry no pitch or onset; "
            f"applied by note index unchecked (saving from the panel rewrites them as {EXPRESSION_FORMAT})"
        )
        return legacy_rows(rows, where), [warning]
    if isinstance(data, dict) and data.get("format", EXPRESSION_FORMAT) != EXPRESSION_FORMAT:
        raise ReaDDSPError(f"{where}: format {str(data.get('format'))[:40]!r}; expected {EXPRESSION_FORMAT}")
    try:
        return parse_expression(data), []
    except ReaDDSPError as err:
        raise ReaDDSPError(f"{where}: {err.problem}") from None


def _matches(row: dict, note: Note) -> bool:
    return row.get("pitch", note.pitch) == note.pitch and abs(row.get("onset", note.onset) - note.onset) <= (
        ONSET_TOLERANCE_S
    )


def match_expression(performance: Performance, rows: list[dict]) -> tuple[int, list[str]]:
    """Apply each row to the note it matches: its (part, note) if pitch and onset agree, else the note of that part
    with that pitch and onset (notes were added or removed before it). Returns (notes changed, messages): one line
    for the rows that match no note (not applied)."""
    changed, unmatched = 0, []
    for row in rows:
        part = performance.parts[row["part"]] if row["part"] < len(performance.parts) else None
        note = None
        if part is not None:
            at_index = part.notes[row["note"]] if row["note"] < len(part.notes) else None
            if at_index is not None and _matches(row, at_index):
                note = at_index
            elif "pitch" in row and "onset" in row:
                note = next((n for n in part.notes if _matches(row, n)), None)
        values = {name: row[name] for name in CONTROL_NAMES if name in row}
        if note is None:
            where = f"pitch {row['pitch']} at {row['onset']:.3f} s" if "onset" in row and "pitch" in row else "?"
            unmatched.append(f"part {row['part']} note {row['note']} ({where})")
        elif values:
            note.set_controls(**values)
            changed += 1
    messages = []
    if unmatched:
        listed = ", ".join(unmatched[:5]) + (f" and {len(unmatched) - 5} more" if len(unmatched) > 5 else "")
        messages.append(f"{len(unmatched)} saved expression row(s) match no note (MIDI edited), not applied: {listed}")
    return changed, messages


def apply_take_expression(performance: Performance, text: str, name: str = "") -> list[str]:
    """Apply a take's saved expression (P_EXT `readdsp_expression`: this format, or the old rows) to the notes it
    still matches; returns the messages (old rows, unmatched rows). Malformed data is a one-line ReaDDSPError."""
    if not text:
        return []
    where = f"{name}: take data readdsp_expression" if name else "take data readdsp_expression"
    rows, messages = parse_expression_text(text, where)
    _, unmatched = match_expression(performance, rows)
    return messages + [f"{name}: {m}" if name else m for m in unmatched]
