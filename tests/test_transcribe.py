"""`readdsp transcribe`: draft MIDI items in a copy of a project (byte-exact otherwise), a new project, or a .mid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import shared_data

from readdsp.core.midi_io import read_midi
from readdsp.core.performance import Note
from readdsp.core.tempo_map import TempoMap
from readdsp.core.units import midi_to_hz
from readdsp.datasets.guitar_transcribe import bundled_model_path, note_f1
from readdsp.reaper_ext.draft_project import draft_project, midi_item
from readdsp.reaper_ext.project_audio import read_annotated_project
from readdsp.reaper_ext.rpp_build import ItemSpec, MidiEvent, project_text
from readdsp.reaper_ext.rpp_project import load_project, track_name, tracks
from readdsp.reaper_ext.rpp_text import chunk_spans, split_lines, top_tracks
from readdsp.scripts.cli import main

SR = 44100
# (pitch, onset s in the file, offset s in the file): single notes and a dyad, as a guitar line
FILE_NOTES = [(52, 0.3, 1.0), (57, 1.1, 1.8), (59, 1.9, 2.6), (64, 2.7, 3.5), (55, 3.6, 4.4), (62, 4.5, 5.4)]
needs_model = pytest.mark.skipif(
    bundled_model_path() is None, reason="basic-pitch's nmp.onnx is not installed (pip install --no-deps basic-pitch)"
)


def pluck_audio(seconds: float = 6.0) -> np.ndarray:
    """Guitar-ish plucks: harmonics falling as k^-1.5, faster decay up the series, a noise attack."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    audio = np.zeros_like(t)
    for pitch, onset, offset in FILE_NOTES:
        f0 = float(midi_to_hz(pitch))
        since = np.clip(t - onset, 0, None)
        gate = (t >= onset) & (t < offset)
        tone = sum(k**-1.5 * np.sin(2 * np.pi * k * f0 * t) * np.exp(-(1.5 + k) * since) for k in range(1, 9))
        burst = rng.standard_normal(len(t)) * np.exp(-since * 300) * 0.05
        audio += gate * (tone + burst)
    return (0.4 * audio / np.abs(audio).max()).astype(np.float32)


def write_project(folder: Path, tempo_points=None) -> Path:
    """Track "Guitar": item 1 plays pluck.wav from 1 s (SOFFS) at 2 s, item 2 plays it whole at 9 s (FLAC copy),
    item 3 is muted; track "Keys" holds a MIDI item."""
    (folder / "media").mkdir(parents=True)
    audio = pluck_audio()
    sf.write(folder / "media" / "pluck.wav", audio, SR, subtype="PCM_24")
    sf.write(folder / "pluck.flac", audio, SR, format="FLAC")
    guitar = [
        ItemSpec(2.0, 4.0, "a", file="media/pluck.wav", start_offset=1.0),
        ItemSpec(9.0, 6.0, "b", file="pluck.flac"),
        ItemSpec(16.0, 2.0, "muted", file="media/pluck.wav", muted=True),
    ]
    keys = [ItemSpec(0.0, 2.0, "k", events=[MidiEvent(0, 0x90, 60, 90), MidiEvent(960, 0x80, 60, 0)])]
    path = folder / "song.RPP"
    path.write_text(project_text({"Guitar": guitar, "Keys": keys}, bpm=100, tempo_points=tempo_points))
    return path


def expected_notes() -> list[Note]:
    """The plucks in project time: item 1 starts 1 s into the file at 2 s (and ends at 6 s), item 2 at 9 s."""
    out = [Note(p, 1.0 + on, 1.0 + off) for p, on, off in FILE_NOTES if 1.0 <= on < 5.0]
    return out + [Note(p, 9.0 + on, 9.0 + off) for p, on, off in FILE_NOTES]


def fixed_notes(span) -> list[Note]:
    """A stand-in transcriber: one note 0.5-1.0 s into every item."""
    return [Note(60, 0.5, 1.0, 100)]


def without_chunk(data: bytes, name: str) -> bytes:
    """The project text with the top-level track named `name` removed (line by line, endings kept)."""
    lines = split_lines(data.decode("utf-8", errors="surrogateescape"))
    root = load_project_text(lines)
    index = [track_name(t) for t in tracks(root)].index(name)
    span = top_tracks(lines)[index]
    return "".join(lines[: span.start] + lines[span.end + 1 :]).encode("utf-8", errors="surrogateescape")


def load_project_text(lines: list[str]):
    import rpp

    return rpp.loads("".join(lines))


def test_the_draft_is_the_input_plus_one_track(tmp_path):
    project = write_project(tmp_path / "p")
    before = project.read_bytes()
    out = tmp_path / "p" / "draft.RPP"
    result = draft_project(project, out, "Guitar", fixed_notes)
    assert project.read_bytes() == before
    assert result["track"] == "Guitar (draft MIDI)" and result["items"] == 2 and result["notes"] == 2
    assert any("muted" in m for m in result["messages"])
    data = out.read_bytes()
    assert without_chunk(data, "Guitar (draft MIDI)") == before  # every other byte is the input's
    names = [track_name(t) for t in tracks(load_project(out)[0])]
    assert names == ["Guitar", "Guitar (draft MIDI)", "Keys"]
    assert b"HASDATA 1 960 QN" in data and b"<SOURCE MIDI" in data
    drafted = read_annotated_project(out, "Guitar", "Guitar (draft MIDI)")
    assert [(a.position, a.length) for a in drafted.annotations] == [(2.0, 4.0), (9.0, 6.0)]
    onsets = [n.onset for a in drafted.annotations for n in a.notes]
    assert onsets == pytest.approx([2.5, 9.5], abs=1e-3)
    again = draft_project(out, tmp_path / "p" / "draft2.RPP", "Guitar", fixed_notes)
    assert again["track"] == "Guitar (draft MIDI 2)"


def test_ticks_follow_the_tempo_map():
    from readdsp.core.annotated_project import AudioSpan

    step = TempoMap.from_seconds([(0.0, 60.0, False), (4.0, 120.0, False)])
    span = AudioSpan("a", Path("x.wav"), 2.0, 6.0)
    # 60 bpm until 4 s, then 120: 1 s into the item = 1 qn; 3 s = 2 qn + 2 qn; the item ends 4 s + 4 s * 2 = 10 qn
    item = midi_item(span, [Note(60, 1.0, 3.0, 90)], step)
    assert [(e.tick, e.status) for e in item.events] == [(960, 0x90), (3840, 0x80)]
    assert item.length_ticks == 10 * 960
    ramp = TempoMap.from_seconds([(0.0, 60.0, True), (4.0, 120.0, False)])  # linear in time: qn(t) = t + t^2 / 8
    item = midi_item(AudioSpan("a", Path("x.wav"), 0.0, 4.0), [Note(62, 2.0, 4.0, 90)], ramp)
    assert [e.tick for e in item.events] == [2400, 6 * 960]


def test_overlapping_notes_of_one_key_stay_paired():
    from readdsp.core.annotated_project import AudioSpan

    tempo = TempoMap.from_seconds([(0.0, 120.0, False)])
    notes = [Note(60, 0.0, 1.0, 90), Note(60, 0.5, 2.5, 80), Note(60, 0.5, 0.7, 70), Note(64, 2.9, 5.0, 90)]
    item = midi_item(AudioSpan("a", Path("x.wav"), 0.0, 3.0), notes, tempo)
    assert sorted((e.tick, e.status, e.data1) for e in item.events) == [
        (0, 0x90, 60),
        (960, 0x80, 60),
        (960, 0x90, 60),
        (4800, 0x80, 60),
        (5568, 0x90, 64),
        (5760, 0x80, 64),
    ]


def test_output_elsewhere_keeps_media_resolving(tmp_path):
    project = write_project(tmp_path / "p")
    far = draft_project(project, tmp_path / "far" / "away" / "draft.RPP", "Guitar", fixed_notes)
    assert "outside the draft's folder and its parent" in far["messages"][-1]
    out = tmp_path / "beside" / "draft.RPP"
    assert "outside" not in draft_project(project, out, "Guitar", fixed_notes)["messages"][-1]
    original = read_annotated_project(project, "Guitar", "Keys")
    moved = read_annotated_project(out, "Guitar", "Keys")
    assert [s.path for s in moved.audio] == [s.path for s in original.audio]
    kept = split_lines(without_chunk(out.read_bytes(), "Guitar (draft MIDI)").decode())
    changed = [(a, b) for a, b in zip(split_lines(project.read_text()), kept, strict=True) if a != b]
    assert changed and all(a.strip().startswith("FILE") and b.strip().startswith("FILE") for a, b in changed)


@needs_model
def test_cli_drafts_the_notes_the_audio_plays_in_project_time(tmp_path, capsys):
    ramp = [(0.0, 100.0, 0), (8.0, 140.0, 1)]  # a linear ramp, then a step: ticks must follow it
    project = write_project(tmp_path / "p", tempo_points=ramp)
    before = project.read_bytes()
    out = tmp_path / "out" / "draft.RPP"
    assert main(["transcribe", str(project), "--track", "Guitar", "-o", str(out)]) == 0
    assert project.read_bytes() == before
    assert "2 MIDI item(s)" in capsys.readouterr().out
    drafted = read_annotated_project(out, "Guitar", "Guitar (draft MIDI)")
    notes = [n for a in drafted.annotations for n in a.notes]
    score = note_f1(expected_notes(), notes)
    assert score["matched"] >= 0.9 * score["reference"] and score["f1"] >= 0.9, score


@needs_model
def test_audio_file_to_a_midi_file_and_to_a_new_project(tmp_path):
    wav = tmp_path / "take.wav"
    sf.write(wav, pluck_audio(), SR)
    reference = [Note(p, on, off) for p, on, off in FILE_NOTES]
    assert main(["transcribe", str(wav), "-o", str(tmp_path / "take.mid")]) == 0
    notes = [n for part in read_midi(tmp_path / "take.mid").parts for n in part.notes]
    assert note_f1(reference, notes)["f1"] >= 0.9
    out = tmp_path / "drafts" / "take.RPP"
    assert main(["transcribe", str(wav), "--track", "DI", "-o", str(out), "--bpm", "90"]) == 0
    drafted = read_annotated_project(out, "DI", "DI (draft MIDI)")
    assert [s.path for s in drafted.audio] == [wav.resolve()] and drafted.audio[0].length == pytest.approx(6.0)
    notes = [n for a in drafted.annotations for n in a.notes]
    assert note_f1(reference, notes)["f1"] >= 0.9


def _fails(argv: list[str], capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("readdsp: error: ") and "\n" not in err
    return err


def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys):
    project = write_project(tmp_path / "p")
    out = tmp_path / "o" / "draft.RPP"
    cli = ["transcribe", str(project), "-o", str(out)]
    assert "no track named 'Bass'" in _fails([*cli, "--track", "Bass"], capsys)
    assert "no audio item to transcribe on track 'Keys'" in _fails([*cli, "--track", "Keys"], capsys)
    assert "--track NAME is needed" in _fails(cli, capsys)
    same = ["transcribe", str(project), "--track", "Guitar", "-o"]
    assert "different file" in _fails([*same, str(project)], capsys)
    assert "output must be a .rpp file" in _fails([*same, str(tmp_path / "x.mid")], capsys)
    garbage = tmp_path / "p" / "garbage.RPP"
    garbage.write_text("not a project\n")
    err = _fails(["transcribe", str(garbage), "--track", "G", "-o", str(out)], capsys)
    assert "garbage.RPP: not a REAPER project" in err
    noise = tmp_path / "p" / "noise.wav"
    noise.write_bytes(b"RIFF....WAVEjunk")
    assert "noise.wav: not an audio file" in _fails(["transcribe", str(noise), "-o", str(out)], capsys)
    (tmp_path / "p" / "media" / "pluck.wav").unlink()
    (tmp_path / "p" / "pluck.flac").unlink()
    assert "media file" in _fails([*cli, "--track", "Guitar"], capsys)
    assert not (tmp_path / "o").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "readdsp.scripts.cli", *cli, "--track", "Bass"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "song.RPP" in bad.stderr and not out.exists()


def test_no_transcription_model_is_one_clear_line(tmp_path, capsys, monkeypatch):
    import readdsp.datasets.guitar_transcribe as guitar_transcribe

    project = write_project(tmp_path / "p")
    out = tmp_path / "o" / "draft.RPP"
    monkeypatch.setattr(guitar_transcribe, "bundled_model_path", lambda: None)
    cli = ["transcribe", str(project), "--track", "Guitar", "-o", str(out)]
    err = _fails(cli, capsys)
    assert "no transcription model" in err and "pip install --no-deps basic-pitch" in err
    err = _fails([*cli, "--onnx-model", "none.onnx"], capsys)
    assert "none.onnx: no transcription model" in err
    assert not out.exists() and not (tmp_path / "o").exists()


def test_reapers_own_save_gets_a_draft_track(tmp_path, capsys):
    path = shared_data() / "rpp" / "vst.RPP"
    if not path.is_file():
        pytest.skip("REAPER's saves are not in ../shared/data/rpp")
    # REAPER's own save has no audio item: its click-source item (a REAPER-written item, CRLF lines) is turned
    # into one playing a WAV; everything else is REAPER's text
    lines = split_lines(path.read_bytes().decode("utf-8"))
    click = next(s for s in chunk_spans(lines) if s.tag == "SOURCE" and "CLICK" in lines[s.start])
    wave = ["      <SOURCE WAVE\r\n", '        FILE "pluck take.wav"\r\n', "      >\r\n"]
    project = tmp_path / "real" / "vst.RPP"
    project.parent.mkdir()
    project.write_bytes("".join(lines[: click.start] + wave + lines[click.end + 1 :]).encode("utf-8"))
    sf.write(project.parent / "pluck take.wav", pluck_audio(), SR)
    before = project.read_bytes()
    out = tmp_path / "real" / "draft.RPP"
    result = draft_project(project, out, "|Beep Boop", fixed_notes)
    assert project.read_bytes() == before and result["items"] == 1
    assert without_chunk(out.read_bytes(), "|Beep Boop (draft MIDI)") == before
    assert b'NAME "|Beep Boop (draft MIDI)"\r\n' in out.read_bytes()
    drafted = read_annotated_project(out, "|Beep Boop", "|Beep Boop (draft MIDI)")
    assert [n.onset for a in drafted.annotations for n in a.notes] == pytest.approx([0.5], abs=1e-3)
    err = _fails(["transcribe", str(path), "--track", "|Beep Boop", "-o", str(tmp_path / "x.RPP")], capsys)
    assert "a CLICK source" in err and not (tmp_path / "x.RPP").exists()
