"""Every REAPER item kind met in real projects: pooled MIDI, external MIDI files, muted items, linear tempo ramps,
non-event lines in a MIDI source; and the bad input that must give one line and exit 2, writing nothing."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import mido
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reaper_sim import ReaperSimulator  # noqa: E402
from reaper_sim.fixtures import midi_events, write_project  # noqa: E402

from readdsp.reaper_ext.bridge import ReaperBridge  # noqa: E402
from readdsp.reaper_ext.offline_project import midi_items  # noqa: E402
from readdsp.reaper_ext.rpp_project import load_project  # noqa: E402
from readdsp.scripts.cli import main  # noqa: E402

NOTE = midi_events([(0, 960, 0, 69, 100), (1920, 2400, 0, 72, 90)], end_tick=3840)


def item(name: str, source: list[str], position: float = 0.0, length: float = 4.0, header: str = "") -> str:
    body = "\n".join(f"        {line}" for line in source)
    return f"""    <ITEM
      POSITION {position}
      LENGTH {length}
      LOOP 0
      SEL 1
{header}      NAME "{name}"
      SOFFS 0
      PLAYRATE 1 1 0 -1 0 0.0025
      GUID {{11111111-2222-3333-4444-{abs(hash(name)) % 10**12:012d}}}
      <SOURCE {source[0]}
{body[len(f"        {source[0]}") + 1 :]}
      >
    >
"""


def notes_of(project: Path, track: str | None = None) -> dict[str, list[tuple[int, float, float]]]:
    found = midi_items(load_project(project)[0], project.parent, [track] if track else None, None)
    return {
        item.job.name: [(n.pitch, n.onset, n.offset) for p in item.job.performance.parts for n in p.notes]
        for item in found.found
    }


def test_pooled_items_share_the_pool_events(tmp_path: Path) -> None:
    pool = "POOLEDEVTS {AAAAAAAA-0000-0000-0000-000000000001}"
    holder = item("first", ["MIDIPOOL", "HASDATA 1 960 QN", pool, *NOTE], 0.0)
    copy = item("second", ["MIDIPOOL", pool], 4.0)
    project = write_project(tmp_path / "pool.RPP", {"T": [holder, copy]})
    notes = notes_of(project)
    assert notes["first"] == notes["second"] == [(69, 0.0, 0.5), (72, 1.0, 1.25)]


def test_external_midi_file_source(tmp_path: Path) -> None:
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track += [
        mido.Message("note_on", note=64, velocity=80, time=480),
        mido.Message("note_off", note=64, velocity=0, time=240),
    ]
    midi.save(tmp_path / "part.mid")
    project = write_project(tmp_path / "ext.RPP", {"T": [item("ext", ["MIDI", 'FILE "part.mid"'])]}, bpm=60.0)
    assert notes_of(project) == {"ext": [(64, 1.0, 1.5)]}  # ticks are quarter notes of the project tempo


def test_env_and_other_non_event_lines_move_no_time(tmp_path: Path) -> None:
    noisy = ["MIDI", "HASDATA 1 960 QN", "CCINTERP 32", "ENV 7", "POOLEDEVTS {X}"]
    for line in NOTE:
        noisy += [line, "ENV 3", "GUID {00000000-0000-0000-0000-000000000000}"]
    project = write_project(tmp_path / "env.RPP", {"T": [item("env", noisy)]})
    assert notes_of(project) == {"env": [(69, 0.0, 0.5), (72, 1.0, 1.25)]}


def test_linear_tempo_ramp_is_exact_to_the_sample(tmp_path: Path) -> None:
    # 120 -> 60 bpm ramped linearly in time over 4 s (REAPER's linear shape, PT ... 0), then 60 bpm.
    # bpm(t) = 120 - 15 t, so quarter notes q(t) = 2 t - t^2 / 8: q = 1 at t = 8 - sqrt(56), q = 4 at 8 - sqrt(32),
    # the ramp holds q(4) = 6 quarter notes, and q = 8 is 2 beats of 60 bpm later, at 6 s.
    events = midi_events([(960, 1920, 0, 60, 90), (3840, 4800, 0, 62, 90), (7680, 8640, 0, 64, 90)])
    project = write_project(tmp_path / "ramp.RPP", {"T": [item("ramp", ["MIDI", "HASDATA 1 960 QN", *events], 0, 8)]})
    text = project.read_text().replace(
        "    DEFSHAPE 1 -1 -1\n", "    DEFSHAPE 1 -1 -1\n    PT 0 120 0\n    PT 4 60 1\n"
    )
    project.write_text(text)
    onsets = [onset for _, onset, _ in notes_of(project)["ramp"]]
    expected = [8 - math.sqrt(56), 8 - math.sqrt(32), 6.0]
    rate = 48000
    assert [round(t * rate) for t in onsets] == [round(t * rate) for t in expected]
    with ReaperSimulator(project) as sim:  # the simulator maps PPQ through the same tempo path
        selection = ReaperBridge(web_port=sim.web_port).read_selected()
    assert [round(n.onset * rate) for n in selection.midi_items[0].performance.parts[0].notes] == [
        round(t * rate) for t in expected
    ]


def test_muted_items_are_skipped_and_counted(tmp_path: Path, capsys) -> None:
    muted = item("muted", ["MIDI", "HASDATA 1 960 QN", *NOTE], header="      MUTE 1 0\n")
    pooled = item("pooled", ["MIDIPOOL", "HASDATA 1 960 QN", "POOLEDEVTS {P}", *NOTE], 5.0)
    project = write_project(tmp_path / "mute.RPP", {"T": [muted, pooled]})
    found = midi_items(load_project(project)[0], project.parent, None, None)
    assert [i.job.name for i in found.found] == ["pooled"] and found.muted == 1
    assert "1 muted item(s) skipped" in found.messages
    with ReaperSimulator(project) as sim:  # the live path skips muted items too, and reads pooled MIDI
        selection = ReaperBridge(web_port=sim.web_port).read_selected()
    assert [i.name for i in selection.midi_items] == ["pooled"] and selection.muted == 1


def _bad(source: list[str], header: str = "", project_lines: str = "") -> dict:
    return {"source": source, "header": header, "project_lines": project_lines}


BAD_INPUT = {
    "E zz": _bad(["MIDI", "HASDATA 1 960 QN", "E 0 zz 45 64"]),
    "E nan": _bad(["MIDI", "HASDATA 1 960 QN", "E nan 90 45 64"]),
    "E inf": _bad(["MIDI", "HASDATA 1 960 QN", "E inf 90 45 64"]),
    "note byte over 127": _bad(["MIDI", "HASDATA 1 960 QN", "E 0 90 80 64", "E 960 80 80 00"]),
    "HASDATA 0": _bad(["MIDI", "HASDATA 1 0 QN", *NOTE]),
    "LENGTH nan": _bad(["MIDI", "HASDATA 1 960 QN", *NOTE], header="      LENGTH nan\n"),
    "LENGTH 1000000": _bad(["MIDI", "HASDATA 1 960 QN", *NOTE], header="      LENGTH 1000000\n"),
    "SAMPLERATE x": _bad(["MIDI", "HASDATA 1 960 QN", *NOTE], project_lines="SAMPLERATE x"),
    "TEMPO 0": _bad(["MIDI", "HASDATA 1 960 QN", *NOTE], project_lines="TEMPO 0"),
    "PT 0 inf": _bad(["MIDI", "HASDATA 1 960 QN", *NOTE], project_lines="PT 0 inf"),
    "missing external file": _bad(["MIDI", 'FILE "nowhere.mid"']),
    "no MIDI": _bad(["WAVE", 'FILE "clip.wav"']),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_project_input_is_one_line_and_exit_2(tmp_path: Path, capsys, case: str) -> None:
    bad = BAD_INPUT[case]
    project = write_project(tmp_path / "bad.RPP", {"T": [item("bad", bad["source"], header=bad["header"])]})
    text = project.read_text()
    if bad["project_lines"]:
        key = bad["project_lines"].split()[0]
        if key == "PT":
            text = text.replace("    DEFSHAPE 1 -1 -1\n", f"    DEFSHAPE 1 -1 -1\n    {bad['project_lines']}\n")
        else:
            text = "\n".join(
                f"  {bad['project_lines']}" if line.startswith(f"  {key} ") else line for line in text.split("\n")
            )
    if bad["header"]:  # the header line replaces the fixture's own
        key = bad["header"].split()[0]
        text = text.replace(f"      {key} 4.0\n", "", 1)
    project.write_text(text)
    out = tmp_path / "out" / "rendered.RPP"
    assert main(["render-project", str(project), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.RPP" in err and "Traceback" not in err
    assert not out.parent.exists()


@pytest.mark.parametrize("target", ["existing-dir", "under-a-file", "unwritable"])
def test_output_path_is_checked_before_any_work(tmp_path: Path, capsys, target: str) -> None:
    project = write_project(tmp_path / "ok.RPP", {"T": [item("ok", ["MIDI", "HASDATA 1 960 QN", *NOTE])]})
    (tmp_path / "existing-dir").mkdir()
    (tmp_path / "a-file").write_text("x")
    outs = {
        "existing-dir": tmp_path / "existing-dir",
        "under-a-file": tmp_path / "a-file" / "out.RPP",
        "unwritable": Path("/proc/readdsp/out.RPP"),  # no file can be made there, not even by root
    }
    if target == "unwritable" and not Path("/proc/self").is_dir():
        pytest.skip("needs Linux's /proc")
    assert main(["render-project", str(project), "-o", str(outs[target])]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and ("directory" in err or "not a folder" in err or "cannot write" in err)


def test_an_unknown_instrument_fails_before_any_output(tmp_path: Path) -> None:
    from reaper_sim.fixtures import load_test_renderer

    from readdsp.core.errors import ReaDDSPError
    from readdsp.reaper_ext.offline_project import render_project

    project = write_project(tmp_path / "ok.RPP", {"T": [item("ok", ["MIDI", "HASDATA 1 960 QN", *NOTE])]})
    with pytest.raises(ReaDDSPError):
        render_project(project, tmp_path / "new" / "out.RPP", load_test_renderer(), instrument="kazoo")
    assert not (tmp_path / "new").exists()


def test_render_warnings_reach_the_summary_once(tmp_path: Path) -> None:
    from reaper_sim.fixtures import load_test_renderer

    from readdsp.reaper_ext.offline_project import render_project

    events = midi_events([(0, 960, 0, 20, 100), (0, 480, 9, 36, 100)], end_tick=1920)  # out of range, and a drum
    project = write_project(tmp_path / "warn.RPP", {"T": [item("warn", ["MIDI", "HASDATA 1 960 QN", *events])]})
    result = render_project(project, tmp_path / "out" / "warn.RPP", load_test_renderer())
    drums = [m for m in result["messages"] if "drum part skipped" in m]
    ranges = [m for m in result["messages"] if "outside the" in m and "range" in m]
    assert len(drums) == 1 and len(ranges) == 1 and drums[0].startswith("T item 1 ch10")


def test_an_unknown_instrument_saved_on_a_take_names_the_project_and_the_item(tmp_path: Path, capsys) -> None:
    ext = "      <EXT\n        readdsp_instrument kazoo\n      >\n"
    text = item("saved", ["MIDI", "HASDATA 1 960 QN", *NOTE]).replace("      <SOURCE MIDI", ext + "      <SOURCE MIDI")
    project = write_project(tmp_path / "saved.RPP", {"T": [text]})
    out = tmp_path / "out" / "saved.RPP"
    assert main(["render-project", str(project), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "saved.RPP" in err and "T item 1" in err and "kazoo" in err
    assert not out.parent.exists()
