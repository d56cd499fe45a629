"""The panel's data model: generated expression kept apart from edits, and time signatures read and written."""

from __future__ import annotations

import mido
import numpy as np

from readdsp.core.midi_io import read_midi, write_midi
from readdsp.core.performance import Note


def test_reset_to_generated_restores_the_generators_values():
    note = Note(60, 0.0, 1.0, generated=np.full(6, 0.25), expression=np.full(6, 0.25))
    assert not note.is_edited()
    note.set_controls(volume=0.9)
    assert note.is_edited()
    note.reset_to_generated()
    assert not note.is_edited()
    assert np.allclose(note.expression, 0.25)


def test_time_signatures_round_trip(tmp_path):
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0))
    conductor.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    conductor.append(mido.MetaMessage("time_signature", numerator=6, denominator=8, time=480 * 6))
    notes = mido.MidiTrack()
    notes.append(mido.Message("note_on", note=60, velocity=90, time=0))
    notes.append(mido.Message("note_off", note=60, time=480 * 8))
    midi.tracks += [conductor, notes]
    midi.save(tmp_path / "in.mid")
    performance = read_midi(tmp_path / "in.mid")
    assert performance.time_signatures == [(0.0, 3, 4), (3.0, 6, 8)]
    write_midi(performance, tmp_path / "out.mid")
    assert read_midi(tmp_path / "out.mid").time_signatures == [(0.0, 3, 4), (3.0, 6, 8)]


def test_bar_lines_follow_time_signatures_and_tempo():
    from readdsp.core.performance import Performance
    from readdsp.ui.bars import bar_times

    performance = Performance(tempo_map=[(0.0, 120.0)], time_signatures=[(0.0, 3, 4), (3.0, 6, 8)])
    bars = bar_times(performance, 7.0)
    assert [round(t, 6) for t, _ in bars] == [0.0, 1.5, 3.0, 4.5, 6.0]
    assert [number for _, number in bars] == [1, 2, 3, 4, 5]
