"""A take's saved expression (P_EXT `readdsp_expression`): the sidecar's readdsp-expression/1 rows matched by pitch
and onset, unmatched rows reported, the old `[part, note, [6 controls]]` rows read with a warning; render-project
honours it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reaper_sim.fixtures import midi_events, midi_item, write_project  # noqa: E402

from readdsp.core.errors import ReaDDSPError  # noqa: E402
from readdsp.core.expression_io import (  # noqa: E402
    EXPRESSION_FORMAT,
    apply_take_expression,
    expression_text,
    match_expression,
    parse_expression_text,
)
from readdsp.core.performance import Note, Part, Performance  # noqa: E402
from readdsp.reaper_ext.bridge import apply_saved_expression  # noqa: E402
from readdsp.reaper_ext.offline_project import midi_items, plan_project  # noqa: E402
from readdsp.reaper_ext.rpp_project import load_project  # noqa: E402


def line(pitches=(60, 62, 64), step: float = 0.5) -> Performance:
    notes = [Note(p, i * step, i * step + 0.4) for i, p in enumerate(pitches)]
    return Performance(parts=[Part(name="violin", program=40, notes=notes)])


def edited(performance: Performance, index: int, volume: float) -> Performance:
    out = performance.copy()
    for note in out.parts[0].notes:
        note.generated = np.full(6, 0.5)
        note.expression = np.full(6, 0.5)
    out.parts[0].notes[index].set_controls(volume=volume)
    return out


def test_saved_text_holds_only_edits_with_pitch_and_onset() -> None:
    text = expression_text(edited(line(), 1, 0.9))
    data = json.loads(text)
    assert "\n" not in text and data["format"] == EXPRESSION_FORMAT
    rows = [(r["part"], r["note"], r["pitch"], r["onset"], r["volume"]) for r in data["notes"]]
    assert rows == [(0, 1, 62, 0.5, 0.9)]


def test_rows_follow_their_note_when_a_note_is_inserted_before_it() -> None:
    rows, warnings = parse_expression_text(expression_text(edited(line(), 1, 0.9)), "take")
    assert warnings == []
    inserted = line()
    inserted.parts[0].notes.insert(1, Note(61, 0.25, 0.4))  # 62 (at 0.5 s) is note 2 now
    changed, messages = match_expression(inserted, rows)
    assert changed == 1 and messages == []
    assert inserted.parts[0].notes[2].expression[0] == pytest.approx(0.9)
    assert inserted.parts[0].notes[1].expression is None


def test_rows_that_match_no_note_are_reported_not_applied() -> None:
    text = expression_text(edited(line(), 1, 0.9))
    transposed = line((60, 63, 64))
    messages = apply_take_expression(transposed, text, "lead")
    assert messages == [
        "lead: 1 saved expression row(s) match no note (MIDI edited), not applied: part 0 note 1 (pitch 62 at 0.500 s)"
    ]
    assert all(note.expression is None for note in transposed.parts[0].notes)


def test_old_rows_are_read_with_a_warning_and_apply_by_index() -> None:
    performance = line()
    old = json.dumps({"notes": [[0, 2, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]], [0, 9, [0.5] * 6]]})
    messages = apply_saved_expression(performance, {"expression": old}, "lead")
    assert "2 row(s) in the old [part, note, controls] form carry no pitch or onset" in messages[0]
    assert "applied by note index unchecked" in messages[0]
    assert np.allclose(performance.parts[0].notes[2].expression, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert "part 0 note 9 (?)" in messages[1]  # an index past the notes matches nothing


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "is not valid JSON"),
        ('{"format": "other/2", "notes": []}', "format 'other/2'"),
        ('{"notes": [{"part": 0, "note": 0, "volume": "loud"}]}', "notes[0]"),
        ('{"notes": [[0, 1, [0.5, 0.5]]]}', "must be [part, note, [6 controls]]"),
    ],
)
def test_malformed_take_data_is_one_line_naming_it(text: str, problem: str) -> None:
    with pytest.raises(ReaDDSPError, match="lead: take data readdsp_expression") as err:
        apply_take_expression(line(), text, "lead")
    assert problem in str(err.value) and "\n" not in str(err.value)


def _project_with_ext(tmp_path: Path, value: str) -> Path:
    events = midi_events([(0, 900, 0, 69, 100), (960, 1860, 0, 72, 100)], [(0, 0xC0, 40, 0)], end_tick=1920)
    item = midi_item("lead", 0.0, 1.0, events)
    quoted = "'" + value + "'"
    ext = f"      <EXT\n        readdsp_expression {quoted}\n      >\n"
    item = item.replace("      <SOURCE MIDI", ext + "      <SOURCE MIDI")
    return write_project(tmp_path / "song.RPP", {"Lead": [item]})


def test_render_project_applies_the_saved_expression(tmp_path: Path) -> None:
    saved = edited(line((69, 72)), 1, 0.8)
    saved.parts[0].notes[1].onset = 0.5  # 960 ticks at 120 bpm
    project = _project_with_ext(tmp_path, expression_text(saved))
    found = midi_items(load_project(project)[0], project.parent, None, None)
    notes = found.found[0].job.performance.parts[0].notes
    assert notes[0].expression is None
    assert notes[1].expression[0] == pytest.approx(0.8)
    assert found.messages == []


def test_render_project_reports_unmatched_rows_and_refuses_corrupt_data(tmp_path: Path) -> None:
    saved = edited(line((69, 71)), 1, 0.8)  # saved for a 71 the MIDI no longer has
    project = _project_with_ext(tmp_path, expression_text(saved))
    found = midi_items(load_project(project)[0], project.parent, None, None)
    assert any("match no note" in m and "pitch 71" in m for m in found.messages)
    (tmp_path / "bad").mkdir()
    bad = _project_with_ext(tmp_path / "bad", "{not json")
    with pytest.raises(ReaDDSPError, match="song.RPP: Lead item 1: take data readdsp_expression is not valid JSON"):
        plan_project(bad, tmp_path / "out.RPP")
