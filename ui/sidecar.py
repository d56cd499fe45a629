"""The panel's edits beside the MIDI file: SONG.mid -> SONG.readdsp-expression.json (readdsp-expression/1)."""

from __future__ import annotations

from pathlib import Path

from readdsp.core.errors import ReaDDSPError
from readdsp.core.expression_io import ONSET_TOLERANCE_S, apply_expression, load_expression, save_expression
from readdsp.core.midi_io import read_midi
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


def save_edits_as_read(performance: Performance, midi: Path, path: Path) -> Path:
    """Save `performance`'s edits as the sidecar `path` of `midi`, a file written from its notes: rows name the
    notes as `read_midi` reads `midi` back (its note order, tick-rounded times), each edited note found by part,
    pitch and the nearest onset within 2 ms (humanize with timing can change the order of a part's notes)."""
    reread = read_midi(midi)
    for part, target in zip(performance.parts, reread.parts, strict=True):
        free: dict[int, list[int]] = {}
        for index, note in enumerate(target.notes):
            free.setdefault(note.pitch, []).append(index)
        for note in part.notes:
            candidates = free.get(note.pitch, [])
            best = min(candidates, key=lambda i: abs(target.notes[i].onset - note.onset), default=None)
            if best is None or abs(target.notes[best].onset - note.onset) > ONSET_TOLERANCE_S:
                continue
            candidates.remove(best)
            target.notes[best].expression, target.notes[best].generated = note.expression, note.generated
    return save_edits(reread, path)


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
