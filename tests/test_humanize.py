"""Humanize and generate: note edits only, everything else kept; determinism; drums untouched; bad input exits 2."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pytest
import torch

from readdsp.core.bundle import save_bundle
from readdsp.core.errors import ReaDDSPError
from readdsp.core.generate import generate_midi, parse_time_signature
from readdsp.core.humanize import humanize, humanize_file
from readdsp.core.midi_io import read_midi
from readdsp.core.midi_notes import absolute_ticks, tick_notes
from readdsp.core.performance_model import FAMILY, PerformanceModel, build_networks
from readdsp.scripts.cli import main


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> PerformanceModel:
    """An untrained performance bundle: exercises the whole path without depending on trained weights."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("perf") / "random_performance.safetensors"
    save_bundle(path, {"model": FAMILY, "name": "random_performance", "hidden": 16}, build_networks(16))
    return PerformanceModel.load(path)


def write_flat_midi(path: Path, drums: bool = True, n_bars: int = 4) -> Path:
    """A flat, quantised two-track file: 3/4, a tempo change, CC, pitch bend, a piano part with chords, drums."""
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    meta = mido.MidiTrack()
    meta += [
        mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0),
        mido.MetaMessage("set_tempo", tempo=500_000, time=0),
        mido.MetaMessage("set_tempo", tempo=400_000, time=1440),
        mido.MetaMessage("end_of_track", time=0),
    ]
    piano = mido.MidiTrack()
    events = [(0, 1, mido.Message("control_change", control=7, value=100)), (0, 1, mido.Message("pitchwheel", pitch=0))]
    for beat in range(3 * n_bars):
        chord = [60 + beat % 5, 64 + beat % 5] if beat % 3 == 0 else [67 + beat % 4]
        for pitch in chord:
            events.append((beat * 480, 2, mido.Message("note_on", note=pitch, velocity=80)))
            events.append((beat * 480 + 400, 0, mido.Message("note_off", note=pitch)))
        events.append((beat * 480 + 100, 1, mido.Message("control_change", control=11, value=60 + beat)))
        events.append((beat * 480 + 200, 1, mido.Message("pitchwheel", pitch=100 * beat)))
    if drums:
        for beat in range(3 * n_bars):
            events.append((beat * 480, 2, mido.Message("note_on", channel=9, note=36, velocity=100)))
            events.append((beat * 480 + 60, 0, mido.Message("note_off", channel=9, note=36)))
    previous = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        piano.append(msg.copy(time=tick - previous))
        previous = tick
    piano.append(mido.MetaMessage("end_of_track", time=0))
    midi.tracks += [meta, piano]
    midi.save(path)
    return path


def _others(path: Path) -> list[tuple[int, int, str]]:
    """(track, absolute tick, message) of every event that is not a note."""
    midi = mido.MidiFile(path)
    return [
        (i, tick, str(msg.copy(time=0)))
        for i, track in enumerate(midi.tracks)
        for tick, msg in zip(absolute_ticks(track), track, strict=True)
        if msg.type not in ("note_on", "note_off", "end_of_track")
    ]


def _notes(path: Path):
    return sorted(
        (n.channel, n.on_tick, n.pitch, n.off_tick - n.on_tick, n.velocity) for n in tick_notes(mido.MidiFile(path))
    )


def test_humanize_keeps_everything_but_velocity_and_duration(tmp_path, model):
    src = write_flat_midi(tmp_path / "flat.mid")
    before = src.read_bytes()
    out = humanize_file(src, tmp_path / "out.mid", model=model)
    assert src.read_bytes() == before  # input never modified
    assert _others(out) == _others(src)  # CCs, pitch bend, tempo, time signature exactly
    old, new = _notes(src), _notes(out)
    assert [(c, on, p) for c, on, p, _, _ in old] == [(c, on, p) for c, on, p, _, _ in new]
    assert [n for n in new if n[0] == 9] == [n for n in old if n[0] == 9]  # drums untouched
    tonal = [n for n in new if n[0] != 9]
    assert len({v for *_, v in tonal}) > 1 and len({d for *_, d, _ in tonal}) > 1


def test_humanize_is_deterministic_per_seed(tmp_path, model):
    src = write_flat_midi(tmp_path / "flat.mid")
    a = humanize_file(src, tmp_path / "a.mid", seed=3, model=model).read_bytes()
    b = humanize_file(src, tmp_path / "b.mid", seed=3, model=model).read_bytes()
    c = humanize_file(src, tmp_path / "c.mid", seed=4, model=model).read_bytes()
    assert a == b and a != c


def test_amount_zero_is_the_input(tmp_path, model):
    src = write_flat_midi(tmp_path / "flat.mid")
    out = humanize_file(src, tmp_path / "out.mid", amount=0.0, model=model)
    assert out.read_bytes() == src.read_bytes()


def test_timing_moves_onsets_only_with_the_flag(tmp_path, model):
    src = write_flat_midi(tmp_path / "flat.mid", drums=False, n_bars=16)
    out = humanize_file(src, tmp_path / "out.mid", timing=True, model=model)
    assert [n[1] for n in _notes(out)] != [n[1] for n in _notes(src)]
    assert sorted(n[2] for n in _notes(out)) == sorted(n[2] for n in _notes(src))
    assert _others(out) == _others(src)


def test_performance_api(tmp_path, model):
    perf = read_midi(write_flat_midi(tmp_path / "flat.mid"))
    out = humanize(perf, amount=1.0, seed=0, model=model)
    assert out is not perf
    for old_part, new_part in zip(perf.parts, out.parts, strict=True):
        assert [n.pitch for n in old_part.notes] == [n.pitch for n in new_part.notes]
        assert [n.onset for n in old_part.notes] == [n.onset for n in new_part.notes]
        if old_part.is_drum:
            assert [n.velocity for n in old_part.notes] == [n.velocity for n in new_part.notes]
        assert old_part.cc == new_part.cc and old_part.pitch_bend == new_part.pitch_bend
    assert perf.parts[0].notes[0].velocity == 80  # the input performance is untouched


def test_generate_fills_the_bars(model):
    midi = generate_midi(bars=3, time_signature=(6, 8), seed=1, model=model)
    notes = tick_notes(midi)
    assert notes and max(n.on_tick for n in notes) < 3 * 3 * 480
    assert any(m.type == "time_signature" and m.numerator == 6 for m in midi.tracks[0])
    again = generate_midi(bars=3, time_signature=(6, 8), seed=1, model=model)
    assert [str(m) for m in again.tracks[0]] == [str(m) for m in midi.tracks[0]]


def test_generate_continues_a_prime(tmp_path, model):
    prime = mido.MidiFile(write_flat_midi(tmp_path / "prime.mid", drums=False, n_bars=2))
    midi = generate_midi(bars=2, seed=0, prime=prime, model=model)
    starts = sorted(n.on_tick for n in tick_notes(midi))
    assert starts[0] == 0 and starts[-1] >= 6 * 480  # the prime's 2 bars of 3/4, then new notes


@pytest.mark.parametrize("text", ["4", "3/5", "0/4", "x/y"])
def test_bad_time_signature(text):
    with pytest.raises(ReaDDSPError):
        parse_time_signature(text)


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    empty = mido.MidiFile()
    empty.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000)]))
    empty.save(tmp_path / "empty.mid")
    drums = mido.MidiFile()
    drums.tracks.append(
        mido.MidiTrack([mido.Message("note_on", channel=9, note=36), mido.Message("note_off", channel=9, note=36)])
    )
    drums.save(tmp_path / "drums.mid")
    (tmp_path / "corrupt.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    return {"no notes": tmp_path / "empty.mid", "drum": tmp_path / "drums.mid", "valid MIDI": tmp_path / "corrupt.mid"}


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ({"hidden": 10**9}, "hidden must be a whole number from 1 to 4096"),
        ({"hidden": "64"}, "hidden must be a whole number"),
        ({"temperature": float("nan")}, "temperature must be a number from 0.05 to 10.0"),
        ({"copula_rho": 1.0}, "copula_rho must be a number from -0.99 to 0.99"),
        ({"velocity_mean": 300}, "velocity_mean must be a number from 1.0 to 127.0"),
    ],
)
def test_a_performance_bundle_with_settings_out_of_range_gets_a_one_line_error(tmp_path, setting, problem):
    path = tmp_path / "bad_performance.safetensors"
    save_bundle(path, {"model": FAMILY, "name": "bad", "hidden": 16} | setting, build_networks(16))
    with pytest.raises(ReaDDSPError, match=problem) as caught:
        PerformanceModel.load(path)
    assert str(caught.value).startswith(str(path))


def test_bad_input_exits_2_with_one_line_and_no_output(tmp_path, capsys):
    for needle, path in _bad_inputs(tmp_path).items():
        out = tmp_path / f"out_{path.stem}.mid"
        assert main(["humanize", str(path), "-o", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and needle in err and path.name in err
        assert not out.exists()


def test_cli_refuses_to_overwrite_the_input(tmp_path, capsys):
    src = write_flat_midi(tmp_path / "flat.mid")
    before = src.read_bytes()
    assert main(["humanize", str(src), "-o", str(src)]) == 2
    assert src.read_bytes() == before


def test_bundled_model_humanizes_a_flat_part(tmp_path):
    """The shipped bundle: learned velocities spread (not a constant) and keep the part's level."""
    src = write_flat_midi(tmp_path / "flat.mid", drums=False, n_bars=16)
    assert main(["humanize", str(src), "-o", str(tmp_path / "out.mid"), "--seed", "1"]) == 0
    velocities = np.array([n[-1] for n in _notes(tmp_path / "out.mid")])
    assert velocities.std() > 3 and abs(velocities.mean() - 80) < 12


def test_performance_bundle_is_not_an_instrument(tmp_path, monkeypatch, model):
    from readdsp.core import bundle

    folder = tmp_path / "user"
    folder.mkdir()
    save_bundle(folder / "perf.safetensors", {"model": FAMILY, "hidden": 16}, model.networks)
    monkeypatch.setattr(bundle, "user_dir", lambda: folder)
    assert all(path.stem != "perf" for path, _ in bundle.bundle_paths())
    assert all(bundle.read_bundle_config(p).get("model") != FAMILY for p, _ in bundle.bundle_paths())
