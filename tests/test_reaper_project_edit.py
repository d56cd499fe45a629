"""render-project edits only what it means to: a byte-level diff of input and output shows the new takes only."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reaper_sim.fixtures import load_test_renderer, midi_events  # noqa: E402

from readdsp.reaper_ext.offline_project import render_project  # noqa: E402

TRAILING = "   "
EVENTS = "\n".join(f"        {line}" for line in midi_events([(0, 960, 0, 69, 100)], end_tick=1920))

# Quoting REAPER uses and rpp.dumps changes: backticks, a token starting with #, trailing spaces, CRLF.
PROJECT = f"""<REAPER_PROJECT 0.1 "7.0/linux-x86_64" 1700000000
  RECORD_PATH "" ""
  SAMPLERATE 22050 1 0
  TEMPO 120 4 4
  <NOTES 0 2
    |a note with trailing spaces{TRAILING}
  >
  <TRACK {{7A0A7C47-0000-0000-0000-000000000001}}
    NAME `Lead "solo"`
    <FXCHAIN
      SHOW 0
      <VST "VST3: TEqualiser (Tukan)" "#TEqualiser.vst3" 0 "" 0
        ZXE=
      >
    >
    <ITEM
      POSITION 0.5
      LENGTH 2
      LOOP 0
      SEL 1
      NAME `first's take`
      SOFFS 0
      PLAYRATE 1 1 0 -1 0 0.0025
      GUID {{11111111-0000-0000-0000-000000000001}}
      <SOURCE MIDI
        HASDATA 1 960 QN
{EVENTS}
      >
      TAKE SEL
      NAME "second take"
      SOFFS 0
      PLAYRATE 1 1 0 -1 0 0.0025
      GUID {{11111111-0000-0000-0000-000000000002}}
      <SOURCE MIDI
        HASDATA 1 960 QN
{EVENTS}
      >
    >
  >
  <TRACK
    NAME Audio
    <ITEM
      POSITION 0
      LENGTH 1
      NAME clip
      <SOURCE WAVE
        FILE "media/clip`s take.wav"
      >
    >
  >
>
"""


def _write(path: Path, newline: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PROJECT.replace("\n", newline).encode("utf-8"))
    return path


def _changes(before: bytes, after: bytes) -> list[tuple[str, list[bytes], list[bytes]]]:
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [(tag, a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_output_differs_only_in_the_new_take_and_moved_media_paths(tmp_path: Path, newline: str) -> None:
    source = _write(tmp_path / "in" / "song.RPP", newline)
    before = source.read_bytes()
    out = tmp_path / "elsewhere" / "rendered.RPP"
    result = render_project(source, out, load_test_renderer())
    assert source.read_bytes() == before
    wav = Path(result["wavs"][0]).name
    nl = newline.encode()
    changes = _changes(before, out.read_bytes())
    assert [tag for tag, _, _ in changes] == ["replace", "insert", "replace"]
    (_, old_sel, new_sel), (_, _, added), (_, old_file, new_file) = changes
    assert old_sel == [b"      TAKE SEL" + nl] and new_sel == [b"      TAKE" + nl]  # the new take is the active one
    assert added[0] == b"      TAKE SEL" + nl and added[1] == b'      NAME "ReaDDSP: violin"' + nl
    assert f"        FILE {wav}".encode() + nl in added
    assert all(line.endswith(nl) and (newline == "\r\n" or not line.endswith(b"\r\n")) for line in added)
    ext = b"".join(added[added.index(b"      <EXT" + nl) :])
    assert b"readdsp_source_take {11111111-0000-0000-0000-000000000002}" in ext
    assert old_file == [b'        FILE "media/clip`s take.wav"' + nl]
    assert new_file == [b'        FILE "../in/media/clip`s take.wav"' + nl]  # resolves from the new folder


def test_output_beside_the_input_keeps_media_paths(tmp_path: Path) -> None:
    source = _write(tmp_path / "song.RPP", "\n")
    out = tmp_path / "song-rendered.RPP"
    render_project(source, out, load_test_renderer())
    changes = _changes(source.read_bytes(), out.read_bytes())
    assert [tag for tag, _, _ in changes] == ["replace", "insert"]


def test_live_item_chunk_edit_keeps_every_other_byte() -> None:
    from readdsp.reaper_ext.rpp_text import add_take_to_item_text, take_lines

    chunk = '<ITEM\r\nPOSITION 0\r\nNAME `it\'s "x"`\r\n<SOURCE MIDI\r\nHASDATA 1 960 QN\r\nE 0 90 3c 60\r\n>\r\n>'
    edited = add_take_to_item_text(chunk, take_lines("ReaDDSP: flute", "a b.wav", "{G}", {"readdsp_seed": "0"}))
    assert edited.startswith(chunk[: -len(">")])  # the item's own lines, untouched, then the new take
    assert edited.endswith(
        'TAKE SEL\r\nNAME "ReaDDSP: flute"\r\nVOLPAN 1 0 1 -1\r\nSOFFS 0\r\n'
        "PLAYRATE 1 1 0 -1 0 0.0025\r\nCHANMODE 0\r\nGUID {G}\r\n<SOURCE WAVE\r\n"
        '  FILE "a b.wav"\r\n>\r\n<EXT\r\n  readdsp_seed 0\r\n>\r\n>'
    )
