"""Humanize as a producer uses it: the CLI flags, humanize-then-render in one command, quartets, the listening kit."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf
import torch

from readdsp.core.bundle import save_bundle
from readdsp.core.humanize import humanize, humanize_file
from readdsp.core.listening_kit import CONDITIONS, write_listening_kit
from readdsp.core.midi_io import read_midi
from readdsp.core.midi_notes import tick_notes
from readdsp.core.performance_model import FAMILY, PerformanceModel, build_networks
from readdsp.core.render import Renderer
from readdsp.scripts.cli import main
from tests.test_humanize import _notes, _others, write_flat_midi


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> PerformanceModel:
    """An untrained performance bundle (the path, not the trained weights, is under test)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("perf") / "random_performance.safetensors"
    save_bundle(path, {"model": FAMILY, "name": "random_performance", "hidden": 16}, build_networks(16))
    return PerformanceModel.load(path)


def write_quartet(path: Path) -> Path:
    """Four parts on four tracks and channels, with double stops, CC11, flat velocity 72 and quantised quarters."""
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=600_000)]))
    for channel, (program, base) in enumerate([(40, 76), (40, 69), (41, 62), (42, 48)]):
        events = [(0, 0, mido.Message("program_change", channel=channel, program=program))]
        for beat in range(24):
            pitches = [base + beat % 5, base + 4 + beat % 5] if beat % 4 == 0 else [base + beat % 7]
            for pitch in pitches:
                events.append((beat * 480, 2, mido.Message("note_on", channel=channel, note=pitch, velocity=72)))
                events.append((beat * 480 + 470, 1, mido.Message("note_off", channel=channel, note=pitch)))
            events.append((beat * 480 + 240, 1, mido.Message("control_change", channel=channel, control=11, value=90)))
        track, previous = mido.MidiTrack(), 0
        for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
            track.append(msg.copy(time=tick - previous))
            previous = tick
        midi.tracks.append(track)
    midi.save(path)
    return path


def test_quartet_every_part_is_humanized_and_keeps_its_pitches_and_onsets(tmp_path, model):
    src = write_quartet(tmp_path / "quartet.mid")
    out = humanize_file(src, tmp_path / "out.mid", seed=2, model=model)
    old, new = _notes(src), _notes(out)
    assert [n[:3] for n in old] == [n[:3] for n in new]  # channel, onset tick, pitch of every note
    for channel in range(4):
        velocities = [n[-1] for n in new if n[0] == channel]
        assert len(set(velocities)) > 1 and abs(np.mean(velocities) - 72) < 2  # contour added, level kept
    assert _others(out) == _others(src)


def test_cli_seed_and_timing_flags(tmp_path):
    src = write_flat_midi(tmp_path / "flat.mid", drums=True, n_bars=8)
    outs = {name: tmp_path / f"{name}.mid" for name in ("a", "b", "c", "timed")}
    assert main(["humanize", str(src), "-o", str(outs["a"]), "--seed", "5"]) == 0
    assert main(["humanize", str(src), "-o", str(outs["b"]), "--seed", "5"]) == 0
    assert main(["humanize", str(src), "-o", str(outs["c"]), "--seed", "6", "--amount", "0.5"]) == 0
    assert main(["humanize", str(src), "-o", str(outs["timed"]), "--seed", "5", "--timing"]) == 0
    assert outs["a"].read_bytes() == outs["b"].read_bytes() != outs["c"].read_bytes()
    onsets = {name: [n[:3] for n in _notes(path)] for name, path in outs.items()}
    assert onsets["a"] == onsets["c"] == [n[:3] for n in _notes(src)] != onsets["timed"]
    for path in outs.values():
        assert _others(path) == _others(src)  # CCs, pitch bend, tempo, time signature kept exactly
        assert [n for n in _notes(path) if n[0] == 9] == [n for n in _notes(src) if n[0] == 9]  # drums untouched


def test_cli_generate_bars_metre_temperature_and_prime(tmp_path):
    out = tmp_path / "phrase.mid"
    assert main(["generate", "--bars", "3", "--time-signature", "3/4", "--temperature", "0.7", "--seed", "1",
                 "-o", str(out)]) == 0  # fmt: skip
    midi = mido.MidiFile(out)
    assert any(m.type == "time_signature" and (m.numerator, m.denominator) == (3, 4) for t in midi.tracks for m in t)
    notes = tick_notes(midi)
    assert notes and max(n.on_tick for n in notes) < 3 * 3 * midi.ticks_per_beat
    hotter = tmp_path / "hot.mid"
    assert main(["generate", "--bars", "3", "--time-signature", "3/4", "--temperature", "1.5", "--seed", "1",
                 "-o", str(hotter)]) == 0  # fmt: skip
    assert hotter.read_bytes() != out.read_bytes()
    prime = write_flat_midi(tmp_path / "prime.mid", drums=False, n_bars=2)
    continued = tmp_path / "continued.mid"
    assert main(["generate", "--prime", str(prime), "--bars", "2", "-o", str(continued)]) == 0
    starts = sorted(n.on_tick for n in tick_notes(mido.MidiFile(continued)))
    assert starts[0] == 0 and starts[-1] >= 6 * 480  # the prime's two bars of 3/4, then new notes


def test_cli_generate_bad_arguments_exit_2_without_output(tmp_path, capsys):
    out = tmp_path / "phrase.mid"
    for args in (["--bars", "0"], ["--bars", "2", "--time-signature", "3/5"], ["--bars", "2", "--temperature", "0"]):
        assert main(["generate", *args, "-o", str(out)]) == 2
        assert "\n" not in capsys.readouterr().err.strip() and not out.exists()


def test_humanize_then_render_is_one_command(tmp_path, random_bundle):
    src = write_flat_midi(tmp_path / "flat.mid", drums=False, n_bars=2)
    plain, human = tmp_path / "plain.wav", tmp_path / "human.wav"
    common = ["--bundle", str(random_bundle), "--sample-rate", "16000", "--seed", "3"]
    assert main(["render", str(src), "-o", str(plain), *common]) == 0
    assert main(["render", str(src), "-o", str(human), "--humanize", "1", *common]) == 0
    renderer = Renderer.load(random_bundle)
    expected = renderer.render(humanize(read_midi(src), 1.0, False, 3), 16000, seed=3, stems=False).mix  # as the CLI
    audio, rate = sf.read(human, dtype="float32")
    assert rate == 16000 and np.array_equal(audio, expected)  # the same as humanize() then render()
    assert not np.array_equal(audio, sf.read(plain, dtype="float32")[0])


def test_render_humanize_bad_arguments_exit_2_without_output(tmp_path, random_bundle, capsys):
    src = write_flat_midi(tmp_path / "flat.mid", drums=False, n_bars=1)
    out = tmp_path / "out.wav"
    for args in (["--humanize", "1.5"], ["--humanize-timing"]):
        assert main(["render", str(src), "-o", str(out), "--bundle", str(random_bundle), *args]) == 2
        assert "humanize" in capsys.readouterr().err and not out.exists()


def test_listening_kit_three_blind_takes_and_a_key(tmp_path, random_bundle, model):
    perf = read_midi(write_flat_midi(tmp_path / "flat.mid", drums=False, n_bars=2))
    renderer = Renderer.load(random_bundle)
    key_path = write_listening_kit(perf, tmp_path / "kit", seed=4, sample_rate=16000, renderer=renderer, model=model)
    key = json.loads(key_path.read_text())
    assert sorted(p.name for p in (tmp_path / "kit").iterdir()) == ["answer_key.json", *key]
    assert sorted(key) == ["take_1.wav", "take_2.wav", "take_3.wav"]  # neutral names
    assert sorted(entry["condition"] for entry in key.values()) == sorted(CONDITIONS)
    takes = {entry["condition"]: sf.read(tmp_path / "kit" / name, dtype="float32")[0] for name, entry in key.items()}
    assert not np.array_equal(takes["flat"], takes["learned_velocity"])
    assert not np.array_equal(takes["learned_velocity"], takes["learned_velocity_duration"])
    again = write_listening_kit(perf, tmp_path / "again", seed=4, sample_rate=16000, renderer=renderer, model=model)
    assert json.loads(again.read_text()) == key  # the order is seeded
