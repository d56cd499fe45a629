"""Tests for readdsp.core.voices: polyphonic parts split into monophonic voices with onsets untouched."""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from readdsp.core.midi_io import read_midi
from readdsp.core.performance import Note, Part
from readdsp.core.voices import LEGATO_TOLERANCE, split_monophonic


def _violin(notes: list[Note]) -> Part:
    return Part("Violin", 40, 3, notes=notes, cc={11: [(0.0, 64), (1.0, 100)]}, pitch_bend=[(0.0, 0.0), (0.5, 0.25)])


def _pitches(part: Part) -> list[int]:
    return [n.pitch for n in part.notes]


def test_monophonic_part_comes_back_unchanged() -> None:
    part = _violin([Note(60, 0.0, 0.5), Note(62, 0.5, 1.0), Note(64, 1.2, 2.0)])
    (voice,) = split_monophonic(part)
    assert voice.name == "Violin" and voice.notes == part.notes and voice is not part


def test_chord_top_note_goes_to_voice_one_and_melody_stays_there() -> None:
    part = _violin([Note(76, 0.0, 1.0), Note(60, 0.0, 1.0), Note(67, 0.0, 1.0), Note(77, 1.0, 1.5)])
    voices = split_monophonic(part)
    assert [v.name for v in voices] == ["Violin (voice 1)", "Violin (voice 2)", "Violin (voice 3)"]
    assert [_pitches(v) for v in voices] == [[76, 77], [67], [60]]


def test_after_a_chord_voice_leading_picks_the_nearest_voice() -> None:
    part = _violin([Note(76, 0.0, 1.0), Note(60, 0.0, 1.0), Note(59, 1.0, 2.0)])
    voices = split_monophonic(part)
    assert [_pitches(v) for v in voices] == [[76], [60, 59]]


def test_short_legato_overlap_is_cut_without_moving_onsets() -> None:
    part = _violin([Note(60, 0.0, 0.52), Note(62, 0.5, 1.02), Note(64, 1.0, 1.5)])
    (voice,) = split_monophonic(part)
    assert [(n.onset, n.offset) for n in voice.notes] == [(0.0, 0.5), (0.5, 1.0), (1.0, 1.5)]
    assert [(n.onset, n.offset) for n in part.notes] == [(0.0, 0.52), (0.5, 1.02), (1.0, 1.5)]  # input kept


def test_long_overlap_opens_a_second_voice_with_exact_times() -> None:
    part = _violin([Note(60, 0.0, 0.6), Note(62, 0.5, 1.0)])
    first, second = split_monophonic(part)
    assert [(n.pitch, n.onset, n.offset) for n in first.notes] == [(60, 0.0, 0.6)]
    assert [(n.pitch, n.onset, n.offset) for n in second.notes] == [(62, 0.5, 1.0)]


def test_voices_copy_controls_and_settings() -> None:
    part = _violin([Note(60, 0.0, 1.0, 90), Note(64, 0.0, 1.0, 80)])
    part.notes[0].set_controls(vibrato=0.8)
    voices = split_monophonic(part)
    for voice in voices:
        assert (voice.program, voice.channel, voice.cc, voice.pitch_bend) == (40, 3, part.cc, part.pitch_bend)
        assert voice.cc is not part.cc
    assert voices[1].notes[0].controls()["vibrato"] == 0.8 and voices[1].notes[0].velocity == 90


def test_part_without_notes_gives_one_copy() -> None:
    part = Part("Empty", cc={1: [(0.0, 5)]})
    assert split_monophonic(part) == [part]


def test_bundled_example_violin_splits_off_its_double_stop() -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "example.mid"
    violin = read_midi(example).parts[0]
    voices = split_monophonic(violin)
    assert len(voices) == 2 and all(v.is_monophonic() for v in voices)
    assert _pitches(voices[1]) == [71]  # the closing B4 under the G5
    assert sum(len(v.notes) for v in voices) == len(violin.notes)


note_lists = st.lists(
    st.tuples(
        st.integers(40, 90),  # pitch
        st.integers(0, 400),  # onset in 5 ms steps: exact ties and touching notes are common
        st.integers(0, 120),  # duration in 5 ms steps (0 = zero-length)
        st.integers(1, 127),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(note_lists)
def test_split_is_monophonic_and_never_moves_onsets(raw: list[tuple[int, int, int, int]]) -> None:
    notes = [Note(p, on * 0.005, (on + d) * 0.005, v) for p, on, d, v in raw]
    part = _violin(notes)
    before = copy.deepcopy(part)
    voices = split_monophonic(part)
    assert part == before  # the input is not modified
    assert all(v.is_monophonic(tolerance=0.0) for v in voices)
    key = lambda n: (n.pitch, n.onset, n.velocity)  # noqa: E731
    assert Counter(key(n) for v in voices for n in v.notes) == Counter(key(n) for n in notes)
    originals = Counter((n.pitch, n.onset, n.velocity, n.offset) for n in notes)
    for voice in voices:
        ordered = sorted(voice.notes, key=lambda n: n.onset)
        for i, note in enumerate(ordered):
            if (note.pitch, note.onset, note.velocity, note.offset) in originals:
                continue
            # A cut note: it now ends exactly at the next onset in its voice, at most the tolerance earlier.
            cut_from = [o for (p, on, v, o) in originals if (p, on, v) == key(note)]
            assert i + 1 < len(ordered) and note.offset == ordered[i + 1].onset
            assert min(np.array(cut_from) - note.offset) <= LEGATO_TOLERANCE + 1e-9
    if len(voices) > 1:
        assert [v.name for v in voices] == [f"Violin (voice {i})" for i in range(1, len(voices) + 1)]
