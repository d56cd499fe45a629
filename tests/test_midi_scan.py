"""MIDI files too large, with too many notes or too many events are refused from their bytes, in bounded memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import mido
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readdsp.core.errors import ReaDDSPError
from readdsp.core.midi_io import read_midi
from readdsp.core.midi_rules import MAX_NOTES
from readdsp.core.midi_scan import MAX_EVENTS, MAX_MIDI_BYTES, count_midi

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "example.mid"


def _mido_counts(midi: mido.MidiFile) -> tuple[int, int]:
    messages = [m for track in midi.tracks for m in track]
    return sum(m.type == "note_on" and m.velocity > 0 for m in messages), len(messages)


def test_counts_agree_with_mido_on_the_bundled_example() -> None:
    counts = count_midi(EXAMPLE.read_bytes(), MAX_NOTES)
    assert (counts.notes, counts.events) == _mido_counts(mido.MidiFile(EXAMPLE))


MESSAGE = st.one_of(
    st.builds(
        lambda n, v, t: mido.Message("note_on", note=n, velocity=v, time=t),
        st.integers(0, 127),
        st.integers(0, 127),
        st.integers(0, 5000),
    ),
    st.builds(
        lambda c, v, t: mido.Message("control_change", control=c, value=v, time=t),
        st.integers(0, 127),
        st.integers(0, 127),
        st.integers(0, 300),
    ),
    st.builds(lambda p, t: mido.Message("program_change", program=p, time=t), st.integers(0, 127), st.integers(0, 9)),
    st.builds(lambda b, t: mido.Message("pitchwheel", pitch=b, time=t), st.integers(-8192, 8191), st.integers(0, 9)),
    st.builds(
        lambda d, t: mido.Message("sysex", data=d, time=t),
        st.lists(st.integers(0, 127), max_size=300),
        st.integers(0, 9),
    ),
    st.builds(
        lambda s, t: mido.MetaMessage("text", text=s, time=t), st.text("abc xyz", max_size=200), st.integers(0, 9)
    ),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(MESSAGE, max_size=40), min_size=1, max_size=3))
def test_fuzz_counts_agree_with_mido(tmp_path_factory, tracks) -> None:
    path = tmp_path_factory.mktemp("scan") / "f.mid"
    midi = mido.MidiFile(type=1)
    midi.tracks = [mido.MidiTrack(track) for track in tracks]
    midi.save(path)
    counts = count_midi(path.read_bytes(), MAX_NOTES)
    assert (counts.notes, counts.events) == _mido_counts(mido.MidiFile(path))


def _dense_file(path: Path, notes: int, ccs: int = 0) -> Path:
    """A file written by hand (mido would take long): `notes` one-tick notes, then `ccs` controller events."""
    body = bytearray()
    for _ in range(notes):
        body += b"\x01\x90\x3c\x40\x01\x80\x3c\x00"
    for _ in range(ccs):
        body += b"\x01\xb0\x01\x10"
    body += b"\x00\xff\x2f\x00"
    header = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0"  # type 0, one track, 480 ticks per beat
    path.write_bytes(header + b"MTrk" + len(body).to_bytes(4, "big") + bytes(body))
    return path


@pytest.mark.parametrize(
    ("notes", "ccs", "problem"),
    [(MAX_NOTES + 1, 0, "notes; split"), (10, MAX_EVENTS, "MIDI events; split")],
)
def test_a_file_over_the_limits_is_refused_before_mido_parses_it(tmp_path: Path, notes, ccs, problem) -> None:
    path = _dense_file(tmp_path / "dense.mid", notes, ccs)
    tracemalloc.start()
    try:
        with pytest.raises(ReaDDSPError, match=problem) as err:
            read_midi(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "\n" not in str(err.value) and str(path) in str(err.value)
    assert peak < 3 * path.stat().st_size + (8 << 20)  # the bytes and the count, not half a kilobyte per event


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.mid"
    with path.open("wb") as handle:
        handle.truncate(MAX_MIDI_BYTES + 1)
    with pytest.raises(ReaDDSPError, match="larger than"):
        read_midi(path)


def test_a_dense_file_under_the_limits_still_reads(tmp_path: Path) -> None:
    path = _dense_file(tmp_path / "ok.mid", 1000)
    assert read_midi(path).n_notes == 1000
