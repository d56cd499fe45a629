"""One MIDI rule set: the same notes from a .mid file and from an RPP item give the same Performance and audio."""

from __future__ import annotations

import sys
from pathlib import Path

import mido
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reaper_sim.fixtures import load_test_renderer, midi_item, write_project  # noqa: E402

from readdsp.core.midi_io import read_midi  # noqa: E402
from readdsp.core.midi_rules import MidiCC, MidiNote, TakeMidi, take_to_performance  # noqa: E402
from readdsp.reaper_ext.offline_project import midi_items  # noqa: E402
from readdsp.reaper_ext.rpp_project import load_project  # noqa: E402

TPQ = 960
# (tick, status, data1, data2): program 40 (violin), pitch-bend range 12 semitones (RPN 0), CC11 swells, a bend
EVENTS = [
    (0, 0xC0, 40, 0),
    (0, 0xB0, 101, 0),
    (0, 0xB0, 100, 0),
    (0, 0xB0, 6, 12),
    (0, 0xB0, 11, 70),
    (0, 0x90, 67, 96),
    (480, 0xB0, 11, 110),
    (720, 0xE0, 0x00, 0x50),
    (960, 0x80, 67, 0),
    (960, 0xE0, 0x00, 0x40),
    (960, 0x90, 69, 80),
    (1920, 0x80, 69, 0),
    (1920, 0x90, 71, 90),
    (2880, 0x80, 71, 0),
]


def _mid(path: Path) -> Path:
    midi = mido.MidiFile(type=1, ticks_per_beat=TPQ)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000)])
    last = 0
    for tick, status, d1, d2 in EVENTS:
        track.append(mido.Message.from_bytes([status, d1] if status == 0xC0 else [status, d1, d2], time=tick - last))
        last = tick
    midi.tracks.append(track)
    midi.save(path)
    return path


def _rpp(path: Path) -> Path:
    lines, last = [], 0
    for tick, status, d1, d2 in EVENTS:
        lines.append(f"E {tick - last} {status:02x} {d1:02x} {d2:02x}")
        last = tick
    lines.append(f"E {3840 - last} b0 7b 00")
    return write_project(path, {"Violin": [midi_item("violin", 0.0, 2.0, lines)]}, bpm=120.0, rate=24000)


def _notes_and_lanes(perf):
    part = perf.parts[0]
    return (
        part.program,
        [(n.pitch, round(n.onset, 9), round(n.offset, 9), n.velocity) for n in part.notes],
        {c: [(round(t, 9), v) for t, v in lane] for c, lane in part.cc.items()},
        [(round(t, 9), round(s, 9)) for t, s in part.pitch_bend],
    )


def test_same_notes_from_a_mid_file_and_an_rpp_item_render_identical_audio(tmp_path: Path) -> None:
    from_file = read_midi(_mid(tmp_path / "line.mid"))
    project = _rpp(tmp_path / "line.RPP")
    from_item = midi_items(load_project(project)[0], project.parent, None, None).found[0].job.performance
    assert _notes_and_lanes(from_file) == _notes_and_lanes(from_item)
    assert from_item.parts[0].pitch_bend[0][1] == pytest.approx((0x50 * 128 - 8192) / 8192 * 12)  # RPN range 12
    renderer = load_test_renderer()
    instrument = renderer.instruments[0]
    for perf in (from_file, from_item):
        perf.parts[0].name = "line"  # labels differ by source (track name vs item name); the music does not
    a = renderer.render(from_file, sample_rate=24000, instrument=instrument, seed=3).mix
    b = renderer.render(from_item, sample_rate=24000, instrument=instrument, seed=3).mix
    assert len(a) > 0 and np.array_equal(a, b)


def test_cc_value_in_force_at_the_item_start_is_kept() -> None:
    midi = TakeMidi(
        notes=[MidiNote(960, 1920, 0, 60, 100)],
        ccs=[MidiCC(0, 0xB0, 0, 11, 40), MidiCC(480, 0xB0, 0, 11, 50), MidiCC(1440, 0xB0, 0, 11, 90)],
    )
    perf = take_to_performance(midi, lambda ppq: ppq / TPQ * 0.5 - 0.5, item_length=1.0, loop=False)
    assert perf.parts[0].cc[11] == [(0.0, 50), (pytest.approx(0.25), 90)]  # tick 480 (-0.25 s) is in force at 0


def _music21_unison_excerpt(path: Path) -> Path:
    """Bars 17-22 of Beethoven op. 18 no. 1/i from music21's corpus, exported by music21: its violins' unison
    double stops are two note-ons of one pitch at one tick with one note-off, and repeated notes lack their
    note-off."""
    corpus = pytest.importorskip("music21.corpus", reason="music21 (the `train` extra) writes the real export")
    corpus.parse("beethoven/opus18no1/movement1.mxl").measures(17, 22).write("midi", fp=str(path))
    return path


def _track_as_rpp_lines(track: mido.MidiTrack, ticks_per_beat: int) -> list[str]:
    """A .mid track's channel events as an RPP item's E lines at 960 ticks per quarter note."""
    lines, tick, last = [], 0, 0
    for msg in track:
        tick += msg.time
        if msg.is_meta or msg.type == "sysex":
            continue
        assert tick * TPQ % ticks_per_beat == 0, "the excerpt's ticks must map exactly onto 960 per quarter"
        ppq = tick * TPQ // ticks_per_beat
        lines.append(f"E {ppq - last} " + " ".join(f"{b:02x}" for b in msg.bytes()))
        last = ppq
    return lines


def test_music21_unisons_sound_one_note_per_key_from_a_mid_file_and_an_rpp_item(tmp_path: Path) -> None:
    mid = _music21_unison_excerpt(tmp_path / "op18no1_b17-22.mid")
    midi = mido.MidiFile(mid)
    assert {m.tempo for t in midi.tracks for m in t if m.type == "set_tempo"} == {500_000}  # 120 bpm
    violin1 = midi.tracks[1]
    tick, ons = 0, []
    for msg in violin1:
        tick += msg.time
        if msg.type == "note_on" and msg.velocity and msg.note == 77:
            ons.append(tick)
    assert len(ons) != len(set(ons)), "the excerpt holds a unison: two note-ons of F5 at one tick"

    from_file = read_midi(mid).parts[0]
    f5 = [(n.onset, n.offset) for n in from_file.notes if n.pitch == 77]
    beat = 0.5  # seconds per quarter at 120 bpm
    # The unison at beat 8 sounds once, until F5's next note-on (beat 9); FIFO pairing held a note to beat 16.5.
    beats = [(6, 8), (8, 9), (9, 10), (15, 16.5), (16.75, 17), (17.5, 18)]
    assert f5 == [(on * beat, off * beat) for on, off in beats]
    assert max(n.offset - n.onset for n in from_file.notes) <= 2.0  # no note outlasts the score's half notes
    for pitch in {n.pitch for n in from_file.notes}:  # one note sounds per key
        spans = sorted((n.onset, n.offset) for n in from_file.notes if n.pitch == pitch)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))

    end = 24 * TPQ
    lines = _track_as_rpp_lines(violin1, midi.ticks_per_beat)
    project = write_project(tmp_path / "op18.RPP", {"Violin I": [midi_item("v1", 0.0, end / TPQ * beat, lines)]})
    from_item = midi_items(load_project(project)[0], project.parent, None, None).found[0].job.performance.parts[0]
    assert [(n.pitch, round(n.onset, 9), round(n.offset, 9), n.velocity) for n in from_item.notes] == [
        (n.pitch, round(n.onset, 9), round(n.offset, 9), n.velocity) for n in from_file.notes
    ]
