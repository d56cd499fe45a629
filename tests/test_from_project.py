"""`dataset from-project`: .RPP files written in REAPER's format (and REAPER's own saves) -> the cached format."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import shared_data

from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.cache import open_dataset
from readdsp.datasets.from_project import build_from_project
from readdsp.reaper_ext.project_audio import read_annotated_project
from readdsp.reaper_ext.rpp_build import ItemSpec, MidiEvent, project_text

SR = 24000


def tone(seconds: float, hz: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def write_project(folder: Path) -> Path:
    (folder / "media").mkdir(parents=True)
    sf.write(folder / "media" / "a.wav", tone(6.0), SR)
    sf.write(folder / "b.flac", tone(4.0, 330.0), SR, format="FLAC")
    outside = folder.parent.parent / "outside.wav"
    sf.write(outside, tone(1.0), SR)
    notes = [
        MidiEvent(0, 0xB0, 55, 0),
        MidiEvent(960, 0x90, 57, 100),
        MidiEvent(1920, 0x80, 57, 0),
        MidiEvent(2000, 0xB0, 55, 127),
        MidiEvent(2880, 0x90, 60, 40),
        MidiEvent(3840, 0x80, 60, 0),
        MidiEvent(3000, 0x90, 64, 90, muted=True),
        MidiEvent(3500, 0x80, 64, 0, muted=True),
    ]
    audio = [
        ItemSpec(0.0, 3.0, "a", file="media/a.wav", start_offset=1.0),
        ItemSpec(4.0, 2.0, "b", file="b.flac"),
        ItemSpec(7.0, 1.0, "gone", file="media/missing.wav"),
        ItemSpec(9.0, 1.0, "far", file=str(outside)),
        ItemSpec(11.0, 1.0, "muted", file="media/a.wav", muted=True),
        ItemSpec(13.0, 1.0, "click", file="x", source_kind="CLICK"),
    ]
    midi = [
        ItemSpec(0.0, 3.0, "m1", events=notes),
        ItemSpec(4.0, 2.0, "m2", events=[MidiEvent(0, 0x90, 62, 80), MidiEvent(960, 0x80, 62, 0)]),
    ]
    path = folder / "song.RPP"
    path.write_text(project_text({"Guitar": audio, "Notes": midi}, sample_rate=SR))
    return path


def test_project_items_notes_lanes_and_counts(tmp_path):
    project = write_project(tmp_path / "a" / "proj")
    before = project.read_bytes()
    annotated = read_annotated_project(project, "Guitar", "Notes")
    assert [s.label for s in annotated.audio] == ["Guitar item 1", "Guitar item 2"]
    assert annotated.audio[0].source_offset == 1.0
    assert annotated.skipped == {
        "missing media": 1,
        "media outside the project": 1,
        "muted item": 1,
        "unsupported source": 1,
    }
    summary = build_from_project(annotated, tmp_path / "ds", SR, "guitar", f0=False)
    data = open_dataset(tmp_path / "ds")
    assert summary["examples"] == 2 and len(data) == 2
    first = data.load_example(data.entries[0]["id"])
    assert first.notes[:, 0].tolist() == [57, 60]  # the muted note is left out
    assert first.notes[0, 1] == pytest.approx(0.5) and first.notes[1, 3] == 40
    assert first.cc[55][:, 1].tolist() == [0, 127]
    assert len(first.audio) == 3 * SR
    # the item plays its file from SOFFS = 1 s: its first sample is the file's sample at 1 s
    assert np.allclose(first.audio[:100], tone(6.0)[SR : SR + 100], atol=1e-4)
    assert project.read_bytes() == before


def test_missing_track_and_audio_without_notes(tmp_path):
    project = write_project(tmp_path / "a" / "proj")
    with pytest.raises(ReaDDSPError, match="no track named 'Bass'") as err:
        read_annotated_project(project, "Bass", "Notes")
    assert "song.RPP" in str(err.value)
    empty = read_annotated_project(project, "Guitar", "Guitar")  # no MIDI: every example is unannotated
    with pytest.raises(ReaDDSPError, match="no annotated audio"):
        build_from_project(empty, tmp_path / "ds", SR, "guitar", f0=False)


def test_cli_summary_and_bad_input_exit_2(tmp_path):
    project = write_project(tmp_path / "a" / "proj")
    cli = [sys.executable, "-m", "readdsp.scripts.cli", "dataset", "from-project", str(project)]
    ok = subprocess.run(
        [*cli, "--audio-track", "Guitar", "--midi-track", "Notes", "-o", str(tmp_path / "ds"), "--no-f0"],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "1 missing media" in ok.stdout and "1 media outside the project" in ok.stdout
    bad = subprocess.run(
        [*cli, "--audio-track", "Nope", "--midi-track", "Notes", "-o", str(tmp_path / "ds2")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "song.RPP" in bad.stderr and not (tmp_path / "ds2").exists()


def test_reapers_own_save_is_read(tmp_path):
    path = shared_data() / "rpp" / "vst.RPP"
    if not path.is_file():
        pytest.skip("REAPER's saves are not in ../shared/data/rpp")
    from readdsp.reaper_ext.rpp_project import load_project, track_name, tracks

    names = [track_name(t) for t in tracks(load_project(path)[0])]
    annotated = read_annotated_project(path, names[0], names[0])
    assert annotated.audio == [] and sum(annotated.skipped.values()) >= 1
