"""The linear-time project reader gives what `rpp.loads` gives, refuses what it refuses, and bounds a project's size."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import rpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from readdsp.core.errors import ReaDDSPError
from readdsp.reaper_ext.rpp_build import ItemSpec, MidiEvent, project_text
from readdsp.reaper_ext.rpp_project import MAX_PROJECT_LINES, load_project
from readdsp.reaper_ext.rpp_read import loads

SHARED_RPP = Path(__file__).resolve().parents[1] / "../shared/data/rpp"


def _project(n_notes: int = 2) -> str:
    events = [MidiEvent(i * 2, 0x90, 60, 90) for i in range(n_notes)]
    events += [MidiEvent(i * 2 + 1, 0x80, 60, 0) for i in range(n_notes)]
    items = [ItemSpec(0.0, 2.0, name="a `b` 'c'", events=events), ItemSpec(3.0, 1.0, file="media/x y.wav")]
    return project_text({'Lead "1"': items, "#Two": []})


QUIRKS = """<REAPER_PROJECT 0.1 "7.0/linux" 1
  <NOTES 0 2
    |first line   with  spaces
    |
  >
  NAME `it's "quoted"`
  FX "#TEqualiser.vst3" ''
  <VST "VST3: Eq (x)" eq.vst3 0 "" 123<456> ""
    ZXE=AAAA
  >
  single
>
"""


def test_real_and_generated_projects_parse_as_rpp_parses_them() -> None:
    texts = [_project(), _project(50), QUIRKS, QUIRKS.replace("\n", "\r\n")]
    texts += [p.read_text(encoding="utf-8", errors="surrogateescape") for p in sorted(SHARED_RPP.glob("*.RPP"))]
    for text in texts:
        assert loads(text) == rpp.loads(text)


def _chunk_text(lines: list[str]) -> str:
    return "<REAPER_PROJECT 0.1\n" + "\n".join(lines) + "\n>\n"


TOKEN = st.sampled_from(["E", "1", "90", '"a b"', "`x'y`", "'q'", "<", ">", "|pipe", "#c", '"', "x<y", "NAME"])
LINE = st.lists(TOKEN, min_size=0, max_size=4).map(" ".join) | st.sampled_from(["<ITEM", ">", "<SOURCE MIDI", ""])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE, max_size=12))
def test_fuzz_chunk_text_parses_as_rpp_or_fails_with_a_value_error(lines: list[str]) -> None:
    text = _chunk_text(lines)
    try:
        expected = rpp.loads(text)
    except Exception:
        expected = None
    try:
        got = loads(text)
    except ValueError:
        got = None
    assert got == expected


@pytest.mark.parametrize("line", ["", "   ", "<", "> x", "'open", "NAME x"])
def test_text_rpp_refuses_is_a_value_error_naming_the_line(line: str) -> None:
    text = f"<REAPER_PROJECT 0.1\n{line}\n>\n" if line != "NAME x" else "<REAPER_PROJECT 0.1\n>\nNAME x\n"
    with pytest.raises(Exception):  # noqa: B017 (rpp raises ValueError or IndexError)
        rpp.loads(text)
    with pytest.raises(ValueError, match="line 2|line 3"):
        loads(text)


def test_many_lines_parse_in_linear_time() -> None:
    head, tail = _project(1).split("        E 0 90 3c 5a\n", 1)
    body = "".join("        E 1 90 3c 5a\n        E 1 80 3c 00\n" for _ in range(150_000))
    start = time.process_time()
    root = loads(head + body + tail)
    assert time.process_time() - start < 20.0  # rpp.loads takes about a minute for 100,000 lines
    source = root.find(".//SOURCE")
    assert source is not None and len(source.children) > 300_000


def test_a_project_over_the_line_limit_is_one_line_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "huge.RPP"
    head, tail = _project(1).split("        E 0 90 3c 5a\n", 1)
    path.write_text(head + "        E 1 b0 01 00\n" * MAX_PROJECT_LINES + tail)
    start = time.process_time()
    with pytest.raises(ReaDDSPError, match="lines, over the") as err:
        load_project(path)
    assert "\n" not in str(err.value) and time.process_time() - start < 10.0
