"""The panel's edits beside the MIDI file: SONG.mid -> SONG.readdsp-expression.json (readdsp-expression/1)."""

from __future__ import annotations

from pathlib import Path

from readdsp.core.errors import ReaDDSPError
from readdsp.core.expression_io import apply_expression, load_expression, save_expression
from readdsp.core.performance import Performance

SUFFIX = ".readdsp-expression.json"


def sidecar_path(midi: str | Path) -> Path:
    midi = Path(midi)
    return midi.with_name(midi.stem + SUFFIX)


def save_edits(performance: Performance, path: Path) -> Path:
    """Write only the user's edits (generated values are not saved, so 'reset' survives a reload), atomically."""
    edits = performance.copy()
    for part in edits.parts:
        for note in part.notes:
            if not note.is_edited():
                note.expression = None
    return save_expression(edits, path)


def load_edits(performance: Performance, path: Path) -> tuple[int, str | None]:
    """Apply a sidecar's edits: (notes changed, None), or (0, a one-line message) leaving `performance` as it was
    when the file is unreadable or made for another MIDI file. The file itself is never touched."""
    if not path.exists():
        return 0, None
    trial = performance.copy()
    try:
        changed = apply_expression(trial, load_expression(path), path)
    except ReaDDSPError as err:
        return 0, f"{err}; using the generated expression, and the file is kept as it is"
    for part, edited in zip(performance.parts, trial.parts, strict=True):
        for note, new in zip(part.notes, edited.notes, strict=True):
            note.expression = new.expression
    return changed, None
