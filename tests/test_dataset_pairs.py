"""`readdsp dataset from-pairs`: real FluidSynth-rendered takes with their MIDI, plus every refusal case."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from readdsp.core.midi_io import write_midi
from readdsp.core.note_frames import notes_to_frames
from readdsp.core.performance import Note, Part, Performance
from readdsp.datasets.cache import open_dataset
from readdsp.datasets.fluidsynth import render_midi, resolve_soundfont
from readdsp.scripts.cli import main

pytestmark = pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="needs the fluidsynth program")

MELODY = [(67, 0.2, 0.7), (69, 0.75, 1.25), (71, 1.3, 1.8), (72, 1.85, 2.9), (74, 3.0, 3.5), (71, 3.6, 4.4)]


def write_take(folder: Path, stem: str, notes=MELODY, program: int = 40, audio_format: str = "WAV") -> None:
    """Write stem.mid and a 44.1 kHz FluidSynth rendering of it (stereo) as the take's audio."""
    part = Part(name="take", program=program, notes=[Note(p, on, off, 90) for p, on, off in notes])
    midi_path = folder / f"{stem}.mid"
    write_midi(Performance(parts=[part]), midi_path)
    mono = render_midi(midi_path, resolve_soundfont("fluidr3"), 44100, part.end_time)
    suffix = {"WAV": ".wav", "FLAC": ".flac"}[audio_format]
    sf.write(folder / f"{stem}{suffix}", np.stack([mono, mono], axis=1), 44100, format=audio_format)


def run(*args: str) -> int:
    return main(["dataset", "from-pairs", *args])


@pytest.fixture(scope="module")
def takes(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("takes")
    write_take(folder, "take1")
    write_take(folder, "take2", [(p - 24, on, off) for p, on, off in MELODY], program=42, audio_format="FLAC")
    return folder


def test_pairs_become_a_dataset(takes: Path, tmp_path: Path) -> None:
    assert run(str(takes), "-o", str(tmp_path / "ds")) == 0
    dataset = open_dataset(tmp_path / "ds")
    assert dataset.sample_rate == 24000 and sorted(dataset.instruments) == ["cello", "violin"]
    for example_id, instrument, shift in (("take1", "violin", 0), ("take2", "cello", -24)):
        example = dataset.load_example(example_id)
        assert example.instrument == instrument
        expected = np.array([[p + shift, on, off, 90] for p, on, off in MELODY])
        np.testing.assert_allclose(example.notes, expected, atol=1e-3)
        assert example.duration == pytest.approx(MELODY[-1][2] + 2.6, abs=0.6)  # FluidSynth's release tail
        frames = notes_to_frames(example.note_list(), example.n_frames)
        voiced = (frames.note_index >= 0) & (example.f0_confidence > 0.8)
        cents = 1200 * np.log2(example.f0_hz[voiced] / (440 * 2 ** ((frames.pitch[voiced] - 69) / 12)))
        assert voiced.sum() > 500 and np.mean(np.abs(cents) < 50) > 0.9
    assert not (takes / "take1.npz").exists()  # the inputs are untouched


def test_instrument_option_overrides_the_program(takes: Path, tmp_path: Path) -> None:
    assert run(str(takes), "-o", str(tmp_path / "ds"), "--instrument", "my_viola", "--sample-rate", "16000") == 0
    dataset = open_dataset(tmp_path / "ds")
    assert dataset.instruments == ["my_viola"] and dataset.sample_rate == 16000
    assert len(dataset.load_example("take1").audio) == dataset.load_example("take1").n_frames * 64


def refuse(tmp_path: Path, folder: Path, capsys, *needles: str) -> None:
    out = tmp_path / "out"
    assert run(str(folder), "-o", str(out)) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]  # skip progress bars
    assert len(errors) == 1 and errors[0].startswith("readdsp: error: "), errors
    assert all(n in errors[0] for n in needles), errors[0]
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


def test_missing_partner(takes: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(takes / "take1.wav", folder / "lonely.wav")
    refuse(tmp_path, folder, capsys, "lonely.wav", "no MIDI partner")
    (folder / "lonely.wav").unlink()
    shutil.copy(takes / "take1.mid", folder / "alone.mid")
    refuse(tmp_path, folder, capsys, "alone.mid", "no audio partner")


def test_unreadable_audio_after_a_good_pair_writes_nothing(takes: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("take1.wav", "take1.mid"):
        shutil.copy(takes / name, folder / name)
    shutil.copy(takes / "take1.mid", folder / "take9.mid")
    (folder / "take9.wav").write_bytes(b"RIFF\x00\x00not really a wave file")
    refuse(tmp_path, folder, capsys, "take9.wav", "unreadable audio")


def test_midi_without_notes_or_with_chords(takes: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(takes / "take1.wav", folder / "take1.wav")
    write_midi(Performance(parts=[Part(name="empty", program=40)]), folder / "take1.mid")
    refuse(tmp_path, folder, capsys, "take1.mid", "no notes")
    chord = Part(name="chords", program=40, notes=[Note(60, 0.2, 1.0), Note(64, 0.2, 1.0), Note(67, 1.2, 2.0)])
    write_midi(Performance(parts=[chord]), folder / "take1.mid")
    refuse(tmp_path, folder, capsys, "take1.mid", "2 simultaneous voices")


def test_notes_past_the_audio_and_empty_folder(takes: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    refuse(tmp_path, folder, capsys, "no audio + MIDI pairs")
    sf.write(folder / "short.wav", np.zeros(4410, np.float32), 44100)
    shutil.copy(takes / "take1.mid", folder / "short.mid")
    refuse(tmp_path, folder, capsys, "short.mid", "past the end of the audio")
