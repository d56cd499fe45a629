"""`readdsp dataset from-notes`: single-note samples named by pitch, FluidSynth-rendered and real, plus refusals."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from readdsp.core.midi_io import write_midi
from readdsp.core.performance import Note, Part, Performance
from readdsp.datasets.cache import open_dataset
from readdsp.datasets.fluidsynth import render_midi, resolve_soundfont
from readdsp.datasets.note_samples import pitch_from_name, velocity_from_name
from readdsp.scripts.cli import main
from tests.conftest import shared_data

pytestmark = pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="needs the fluidsynth program")


def write_note(path: Path, pitch: int, program: int, onset: float = 0.3, offset: float = 1.5) -> None:
    """A FluidSynth render of one note, at 44.1 kHz, in the format the suffix names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = Part(name="note", program=program, notes=[Note(pitch, onset, offset, 90)])
    midi = write_midi(Performance(parts=[part]), path.with_suffix(".mid"))
    audio = render_midi(midi, resolve_soundfont("fluidr3"), 44100, part.end_time)
    midi.unlink()
    sf.write(path, audio, 44100)


def run(*args: str) -> int:
    return main(["dataset", "from-notes", *args])


def test_pitch_names_read_as_sample_libraries_write_them() -> None:
    assert [pitch_from_name(n) for n in ("A4", "As4", "A#4", "Bb3", "C2", "F2 v2", "g5_soft")] == [
        69, 70, 70, 58, 36, 41, 79,
    ]  # fmt: skip
    assert pitch_from_name("loud") is None and pitch_from_name("A") is None
    # Philharmonia's and TinySOL's names: the pitch is a later word, and the dynamic marking gives the velocity
    assert pitch_from_name("cello_A2_1_forte_arco-normal") == 45 and pitch_from_name("Fl-ord-C4-mf-N-T14d") == 60
    assert [velocity_from_name(n, 80) for n in ("cello_A2_1_forte", "flute_C5_05_mezzo-forte", "Fl-ord-C4-pp-N")] == [
        96, 72, 24,
    ]  # fmt: skip
    assert velocity_from_name("F2 take", 80) == 80  # a lone capital F is a note letter, not forte


def test_note_samples_become_a_dataset_and_a_misnamed_note_is_left_out(tmp_path: Path, caplog) -> None:
    library = tmp_path / "library"
    write_note(library / "violin" / "A4.wav", 69, 40)
    write_note(library / "violin" / "violin_Cs5_1_forte_arco-normal.flac", 73, 40, onset=0.5, offset=2.0)
    write_note(library / "cello" / "Bb2 take2.wav", 46, 42)
    write_note(library / "cello" / "E3.wav", 40, 42)  # plays E2: named an octave above what it sounds
    (library / "cello" / "notes.txt").write_text("not audio: ignored")
    with caplog.at_level(logging.WARNING):
        assert run(str(library), "-o", str(tmp_path / "ds"), "--sample-rate", "24000", "--velocity", "70") == 0
    dataset = open_dataset(tmp_path / "ds")
    assert dataset.sample_rate == 24000 and dataset.instruments == ["cello", "violin"]
    assert sorted(dataset.ids("train") + dataset.ids("validation") + dataset.ids("test")) == [
        "cello_Bb2_take2", "violin_A4", "violin_violin_Cs5_1_forte_arco-normal",
    ]  # fmt: skip
    for example_id, pitch, velocity, onset, offset in (
        ("violin_A4", 69, 70, 0.3, 1.5),
        ("violin_violin_Cs5_1_forte_arco-normal", 73, 96, 0.5, 2.0),  # "forte" in the name: velocity 96
    ):
        (row,) = dataset.load_example(example_id).notes
        assert row[0] == pitch and row[3] == velocity
        assert row[1] == pytest.approx(onset, abs=0.05) and offset - 0.05 < row[2] < offset + 1.0  # its release
    assert re.search(r"cello/E3.wav: named E3, but the f0 tracker hears a pitch -1[12]\d\d cents", caplog.text)


def test_refusals_are_one_line_and_write_nothing(tmp_path: Path, capsys) -> None:
    library = tmp_path / "library"
    write_note(library / "violin" / "A4.wav", 69, 40)
    sf.write(library / "violin" / "loud.wav", np.zeros(4410, np.float32), 44100)
    assert run(str(library), "-o", str(tmp_path / "ds")) == 2
    error = capsys.readouterr().err.strip()
    assert "loud.wav: the file name holds no note name" in error and len(error.splitlines()) == 1
    (library / "violin" / "loud.wav").unlink()
    sf.write(library / "violin" / "C5.wav", np.zeros(44100 * 2, np.float32), 44100)  # named, but 2 s of silence
    assert run(str(library), "-o", str(tmp_path / "ds")) == 2
    assert "C5.wav: holds no note of 0.2 s or more (silent, or a click)" in capsys.readouterr().err
    assert run(str(tmp_path / "missing"), "-o", str(tmp_path / "ds")) == 2
    assert run(str(library / "violin"), "-o", str(tmp_path / "ds")) == 2  # notes, but no instrument folders
    assert "no note samples found" in capsys.readouterr().err
    assert not (tmp_path / "ds").exists()


def test_real_guitar_notes_pass_and_the_acoustic_set_s_octave_low_names_are_caught(tmp_path: Path, caplog) -> None:
    notes = shared_data() / "guitar-notes"
    if not notes.is_dir():
        pytest.skip(f"needs the developers' shared data ({notes})")
    library = tmp_path / "library"
    for folder, names in (("guitar-electric", ("A3", "E2", "C4")), ("guitar-acoustic", ("A1", "D2", "C4"))):
        (library / folder).mkdir(parents=True)
        for name in names:
            shutil.copy(notes / folder / f"{name}.wav", library / folder)
    with caplog.at_level(logging.WARNING):
        assert run(str(library), "-o", str(tmp_path / "ds")) == 0
    dataset = open_dataset(tmp_path / "ds")
    # shared/data's README: the acoustic set's names are one octave too low (E1.wav sounds at E2)
    assert dataset.instruments == ["guitar-electric"] and len(dataset.entries) == 3
    assert (
        len(
            re.findall(r"guitar-acoustic/\w+.wav: named \w+, but the f0 tracker hears a pitch \+1[12]\d\d", caplog.text)
        )
        == 3
    )
