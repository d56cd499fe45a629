"""Tests for readdsp.core.midi_io: MIDI files written here with mido (and by hand) read into exact seconds."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf

from readdsp.core.errors import ReaDDSPError
from readdsp.core.midi_io import read_midi, require_notes, write_midi
from readdsp.core.performance import Note, Part, Performance
from readdsp.core.tempo_map import TempoMap

TPB = 480


def _track(events: list[tuple[int, mido.Message | mido.MetaMessage]], name: str | None = None) -> mido.MidiTrack:
    """A track from (absolute tick, message) pairs, kept in the given order for equal ticks."""
    track = mido.MidiTrack()
    if name is not None:
        track.append(mido.MetaMessage("track_name", name=name, time=0))
    previous = 0
    for tick, msg in events:
        track.append(msg.copy(time=tick - previous))
        previous = tick
    return track


def _save(path: Path, tracks: list[mido.MidiTrack], file_type: int = 1) -> Path:
    midi = mido.MidiFile(type=file_type, ticks_per_beat=TPB)
    midi.tracks.extend(tracks)
    midi.save(path)
    return path


def on(pitch: int, velocity: int = 100, channel: int = 0) -> mido.Message:
    return mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)


def off(pitch: int, channel: int = 0) -> mido.Message:
    return mido.Message("note_off", note=pitch, channel=channel)


def tempo(bpm: float) -> mido.MetaMessage:
    return mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))


def notes_of(part: Part) -> list[tuple[int, float, float]]:
    return [(n.pitch, round(n.onset, 9), round(n.offset, 9)) for n in part.notes]


def test_tempo_change_gives_exact_seconds_in_type_1(tmp_path: Path) -> None:
    # 120 bpm for 2 beats (1 s), then 240 bpm: a beat lasts 0.25 s after tick 960.
    conductor = _track([(0, tempo(120)), (960, tempo(240))])
    music = _track([(0, on(60)), (480, off(60)), (480, on(62)), (1440, off(62)), (1920, on(64)), (2400, off(64))])
    perf = read_midi(_save(tmp_path / "t1.mid", [conductor, music]))
    assert notes_of(perf.parts[0]) == [(60, 0.0, 0.5), (62, 0.5, 1.25), (64, 1.5, 1.75)]
    assert perf.tempo_map == [(0.0, 120.0), (1.0, 240.0)]


def test_tempo_event_in_a_non_conductor_track_applies_to_all_tracks(tmp_path: Path) -> None:
    first = _track([(0, on(60)), (1920, off(60))], name="A")
    second = _track([(960, tempo(60)), (960, on(67)), (1440, off(67))], name="B")
    perf = read_midi(_save(tmp_path / "t.mid", [first, second]))
    # 1 s at 120 bpm, then 1 s per beat: tick 1920 = 1 + 2 = 3 s.
    assert notes_of(perf.parts[0]) == [(60, 0.0, 3.0)]
    assert notes_of(perf.parts[1]) == [(67, 1.0, 2.0)]


def test_type_0_and_type_1_files_give_the_same_notes(tmp_path: Path) -> None:
    violin = [(0, on(67, channel=0)), (960, off(67, channel=0))]
    cello = [
        (0, on(43, channel=1)),
        (480, off(43, channel=1)),
        (480, on(45, channel=1)),
        (960, off(45, channel=1)),
    ]
    setup = [(0, tempo(90)), (0, mido.Message("program_change", program=40, channel=0))]
    setup += [(0, mido.Message("program_change", program=42, channel=1))]
    merged = sorted(setup + violin + cello, key=lambda e: e[0])
    type0 = read_midi(_save(tmp_path / "t0.mid", [_track(merged, name="Duo")], file_type=0))
    type1 = read_midi(
        _save(
            tmp_path / "t1.mid",
            [_track(setup[:1]), _track(setup[1:2] + violin, "Violin"), _track(setup[2:] + cello, "Cello")],
        )
    )
    assert [notes_of(p) for p in type0.parts] == [notes_of(p) for p in type1.parts]
    assert [p.program for p in type0.parts] == [p.program for p in type1.parts] == [40, 42]
    assert [p.name for p in type0.parts] == ["Duo (ch 1)", "Duo (ch 2)"]
    assert [p.name for p in type1.parts] == ["Violin", "Cello"]
    assert notes_of(type1.parts[1])[1] == (45, pytest.approx(2 / 3), pytest.approx(4 / 3))  # 90 bpm


def test_running_status_bytes_are_read(tmp_path: Path) -> None:
    # One note-on status byte, then two more events in running status (the second one a velocity-0 note-off).
    events = bytes([0x00, 0x90, 60, 100, 0x83, 0x60, 64, 90, 0x00, 60, 0, 0x83, 0x60, 64, 0, 0x00, 0xFF, 0x2F, 0x00])
    data = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TPB) + b"MTrk" + struct.pack(">I", len(events)) + events
    path = tmp_path / "running.mid"
    path.write_bytes(data)
    perf = read_midi(path)
    assert notes_of(perf.parts[0]) == [(60, 0.0, 0.5), (64, 0.5, 1.0)]
    assert [n.velocity for n in perf.parts[0].notes] == [100, 90]


def test_velocity_zero_note_on_is_a_note_off(tmp_path: Path) -> None:
    music = _track([(0, on(60)), (240, on(60, velocity=0)), (240, on(62)), (480, on(62, velocity=0))])
    perf = read_midi(_save(tmp_path / "v0.mid", [music]))
    assert notes_of(perf.parts[0]) == [(60, 0.0, 0.25), (62, 0.25, 0.5)]


def test_zero_length_notes_are_dropped_and_a_note_on_ends_its_keys_sounding_note(tmp_path: Path) -> None:
    music = _track(
        [
            (0, on(60)),
            (0, off(60)),  # zero-length: dropped
            (0, on(64)),
            (240, on(64)),  # same pitch again while the first sounds: ends the first (as FluidSynth)
            (480, off(64)),  # ends the second
            (960, off(64)),  # no sounding 64: ignored
        ]
    )
    perf = read_midi(_save(tmp_path / "z.mid", [music]))
    assert notes_of(perf.parts[0]) == [(64, 0.0, 0.25), (64, 0.25, 0.5)]


@pytest.mark.parametrize("order", ["off_first", "on_first"])
def test_repeated_pitch_at_one_tick_in_either_order(tmp_path: Path, order: str) -> None:
    boundary = [(480, off(60)), (480, on(60))] if order == "off_first" else [(480, on(60)), (480, off(60))]
    music = _track([(0, on(60)), *boundary, (960, off(60))])
    perf = read_midi(_save(tmp_path / "r.mid", [music]))
    assert notes_of(perf.parts[0]) == [(60, 0.0, 0.5), (60, 0.5, 1.0)]


def test_note_off_before_its_note_on_at_one_tick_leaves_no_stuck_note(tmp_path: Path) -> None:
    # A music21-style chord export: a zero-length 60 written off-then-on; naive pairing keeps it sounding.
    music = _track([(0, on(67)), (480, off(60)), (480, on(60)), (1920, off(67)), (9600, mido.MetaMessage("text"))])
    perf = read_midi(_save(tmp_path / "m21.mid", [music]))
    assert notes_of(perf.parts[0]) == [(67, 0.0, 2.0)]
    assert perf.duration == 2.0


def test_note_after_a_stray_note_off_keeps_its_real_note_off(tmp_path: Path) -> None:
    music = _track([(480, off(60)), (480, on(60)), (720, off(60))])
    perf = read_midi(_save(tmp_path / "stray.mid", [music]))
    assert notes_of(perf.parts[0]) == [(60, 0.5, 0.75)]


def test_notes_open_at_end_of_track_close_there(tmp_path: Path) -> None:
    music = _track([(0, on(60)), (480, on(62)), (480, off(62)), (1440, mido.MetaMessage("text"))])
    perf = read_midi(_save(tmp_path / "open.mid", [music]))
    assert notes_of(perf.parts[0]) == [(60, 0.0, 1.5)]


def test_drum_channel_program_and_names(tmp_path: Path) -> None:
    drums = _track([(0, on(36, channel=9)), (240, off(36, channel=9))], name="Kit")
    flute = _track(
        [
            (0, mido.Message("program_change", program=73, channel=2)),
            (0, on(72, channel=2)),
            (480, off(72, channel=2)),
        ]
    )
    perf = read_midi(_save(tmp_path / "d.mid", [drums, flute]))
    kit, unnamed = perf.parts
    assert (kit.name, kit.is_drum, kit.channel) == ("Kit", True, 9)
    assert (unnamed.name, unnamed.is_drum, unnamed.program, unnamed.channel) == ("Track 2", False, 73, 2)


def test_cc_lanes_and_pitch_bend_in_seconds_and_semitones(tmp_path: Path) -> None:
    cc = [
        (0, mido.Message("control_change", control=11, value=40)),
        (480, mido.Message("control_change", control=11, value=100)),
        (0, mido.Message("pitchwheel", pitch=4096)),  # +1 semitone at the default +-2 range
        (240, mido.Message("pitchwheel", pitch=-8192)),  # -2 semitones
    ]
    rpn12 = [  # RPN 0 = pitch-bend range: 12 semitones
        (480, mido.Message("control_change", control=101, value=0)),
        (480, mido.Message("control_change", control=100, value=0)),
        (480, mido.Message("control_change", control=6, value=12)),
        (480, mido.Message("control_change", control=38, value=0)),
        (720, mido.Message("pitchwheel", pitch=2048)),  # +3 semitones at +-12
    ]
    events = sorted(cc + rpn12 + [(0, on(69)), (960, off(69))], key=lambda e: e[0])
    part = read_midi(_save(tmp_path / "cc.mid", [_track(events)])).parts[0]
    assert part.cc[11] == [(0.0, 40), (0.5, 100)]
    assert part.pitch_bend == [(0.0, 1.0), (0.25, -2.0), (0.75, 3.0)]
    assert part.cc[6] == [(0.5, 12)]


def test_controller_only_track_applies_to_its_channel(tmp_path: Path) -> None:
    controls = _track([(240, mido.Message("control_change", control=1, value=90, channel=3))], name="Mod")
    music = _track([(0, on(60, channel=3)), (480, off(60, channel=3))], name="Horn")
    perf = read_midi(_save(tmp_path / "ctl.mid", [controls, music]))
    assert [p.name for p in perf.parts] == ["Horn"]
    assert perf.parts[0].cc == {1: [(0.25, 90)]}


def test_round_trip_keeps_notes_controls_bend_and_tempo(tmp_path: Path) -> None:
    violin = Part(
        "Violin",
        40,
        0,
        notes=[Note(67, 0.0, 0.5, 90), Note(67, 0.25, 1.0, 80), Note(71, 1.0, 1.75, 70)],
        cc={11: [(0.0, 30), (1.25, 110)], 1: [(0.5, 64)]},
        pitch_bend=[(0.0, 0.0), (0.5, 5.0), (1.0, -0.5)],  # beyond +-2: the writer sets a +-5 range
    )
    cello = Part("Cello", 42, 0, notes=[Note(43, 0.0, 2.0, 100)])  # same channel, other program: moved
    drums = Part("Kit", 0, 4, is_drum=True, notes=[Note(36, 0.5, 0.625, 120)])
    perf = Performance([violin, cello, drums], ticks_per_beat=TPB, tempo_map=[(0.0, 120.0), (1.0, 60.0)])
    path = write_midi(perf, tmp_path / "out" / "rt.mid")
    back = read_midi(path)
    assert [p.name for p in back.parts] == ["Violin", "Cello", "Kit"]
    violin.notes[0].offset = 0.25  # one note sounds per key: the overlapped 67 ends where the next starts
    assert [notes_of(p) for p in back.parts] == [notes_of(p) for p in perf.parts]
    assert [n.velocity for n in back.parts[0].notes] == [90, 80, 70]
    assert [p.program for p in back.parts] == [40, 42, 0]
    channels = [p.channel for p in back.parts]
    assert channels[2] == 9 and back.parts[2].is_drum and channels[0] != channels[1]
    assert back.parts[0].cc[11] == [(0.0, 30), (1.25, 110)] and back.parts[0].cc[1] == [(0.5, 64)]
    np.testing.assert_allclose(np.array(back.parts[0].pitch_bend), np.array(violin.pitch_bend), atol=5 / 8192)
    assert back.tempo_map == [(0.0, 120.0), (1.0, 60.0)]
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_write_replaces_atomically_and_skips_empty_notes(tmp_path: Path) -> None:
    target = tmp_path / "x.mid"
    target.write_bytes(b"old")
    part = Part("Oboe", 68, notes=[Note(70, 1.0, 1.0), Note(72, 1.0, 1.0004)])
    write_midi(Performance([part]), target)
    back = read_midi(target).parts[0]
    assert [n.pitch for n in back.notes] == [72]
    assert back.notes[0].offset - back.notes[0].onset == pytest.approx(60 / 120 / 480)  # one tick at least


def test_tempo_map_ticks_seconds_inverse() -> None:
    tempo_map = TempoMap.from_midi([(0, 500_000), (960, 1_000_000), (1200, 250_000)], TPB)
    ticks = np.arange(0, 5000, 7)
    assert [tempo_map.to_ticks(tempo_map.to_seconds(int(t))) for t in ticks] == list(ticks)
    assert tempo_map.to_seconds(1200) == pytest.approx(1.0 + 0.5)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "file not found"),
        (b"", "empty file"),
        (
            b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x20\x00\x90",
            "not a valid MIDI file",
        ),
        (b"Hello, this is a text file, not music at all.\n", "not a valid MIDI file"),
    ],
)
def test_bad_files_raise_one_line_errors(tmp_path: Path, content: bytes | None, problem: str) -> None:
    path = tmp_path / "song.mid"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ReaDDSPError) as info:
        read_midi(path)
    message = str(info.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message


def test_wav_renamed_to_mid_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "audio.mid"
    sf.write(path, np.zeros(1000, np.float32), 16000, format="WAV")
    with pytest.raises(ReaDDSPError, match="not a valid MIDI file"):
        read_midi(path)


def test_directory_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ReaDDSPError, match="is a directory"):
        read_midi(tmp_path)


def test_file_without_notes_reads_but_require_notes_refuses(tmp_path: Path) -> None:
    path = _save(tmp_path / "silent.mid", [_track([(0, tempo(100)), (480, mido.MetaMessage("text"))])])
    perf = read_midi(path)
    assert perf.parts == [] and perf.tempo_map == [(0.0, pytest.approx(100.0, rel=1e-6))]
    with pytest.raises(ReaDDSPError, match="contains no notes") as info:
        require_notes(perf)
    assert str(path) in str(info.value)
    full = read_midi(_save(tmp_path / "one.mid", [_track([(0, on(60)), (10, off(60))])]))
    assert require_notes(full) is full


def test_bundled_example_is_a_multi_part_expressive_piece() -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "example.mid"
    perf = read_midi(example)
    assert [p.program for p in perf.parts] == [40, 73, 71, 42]
    assert 20.0 <= perf.duration <= 30.0
    assert len(perf.tempo_map) >= 2
    assert all(11 in p.cc for p in perf.parts)
    violin = perf.parts[0]
    assert len(violin.pitch_bend) > 100 and 0.1 < max(abs(b) for _, b in violin.pitch_bend) < 0.5
    assert not violin.is_monophonic()  # slurs overlap and the last chord is a double stop


def test_type_2_tracks_keep_their_own_tempo(tmp_path: Path) -> None:
    slow = _track([(0, tempo(60)), (0, on(60)), (480, off(60))], name="Slow")
    fast = _track([(0, tempo(240)), (0, on(72)), (480, off(72))], name="Fast")
    perf = read_midi(_save(tmp_path / "t2.mid", [slow, fast], file_type=2))
    assert [notes_of(p) for p in perf.parts] == [[(60, 0.0, 1.0)], [(72, 0.0, 0.25)]]


def _shared_data() -> Path:
    env = os.environ.get("READDSP_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "../shared/data"


def test_real_performance_midi_files_read_and_round_trip(tmp_path: Path) -> None:
    files = sorted((_shared_data() / "performance").rglob("*.mid"))[:4]
    if not files:
        pytest.skip("real MIDI data (/work/shared/data/performance or READDSP_SHARED_DATA) is not available")
    for path in files:
        perf = read_midi(path)
        reference = mido.MidiFile(path)
        assert perf.duration <= reference.length + 1e-6  # no note runs past the file's end
        n_note_ons = sum(1 for m in reference if m.type == "note_on" and m.velocity > 0)
        assert 0.95 * n_note_ons <= perf.n_notes <= n_note_ons
        back = read_midi(write_midi(perf, tmp_path / path.name))
        assert back.n_notes == perf.n_notes
        onsets = np.array([n.onset for p in perf.parts for n in p.notes])
        back_onsets = np.array([n.onset for p in back.parts for n in p.notes])
        np.testing.assert_allclose(back_onsets, onsets, atol=2e-3)
