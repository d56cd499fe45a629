"""The evaluation's transcription of real recordings: the tracker's harmonic errors corrected, flickers joined."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from readdsp.core.units import midi_to_hz
from readdsp.training.transcription import correct_tracking_errors, transcribe
from tests.conftest import shared_data

RATE = 44100


def tone(f0: float, harmonic_db: list[float], seconds: float = 1.0) -> np.ndarray:
    """A steady tone whose k-th harmonic (k = 1, 2, ...) sits at harmonic_db[k - 1] dB."""
    t = np.arange(int(seconds * RATE)) / RATE
    return sum(10 ** (db / 20) * np.sin(2 * np.pi * (k + 1) * f0 * t) for k, db in enumerate(harmonic_db)) * 0.1


def test_an_f0_off_by_a_harmonic_is_moved_to_the_sounding_pitch_and_a_true_one_kept() -> None:
    b4 = float(midi_to_hz(71))
    # a B5 with a faint B4 under it (its odd "harmonics" of B4 are 40 dB down): a track at B4 is an octave low
    b5_over_faint_b4 = tone(b4, [-40, 0, -40, -6, -40, -12])
    # a real B4 whose fundamental is weak but whose third harmonic is strong (a low reed or string): kept
    weak_fundamental_b4 = tone(b4, [-25, 0, -3, -6])
    frames = 250
    track = np.full(frames, b4)
    track[:10] = 0.0  # unvoiced frames stay 0
    raised = correct_tracking_errors(b5_over_faint_b4, RATE, track, 250)
    inside = slice(20, -20)  # frames whose ~90-ms window lies inside the audio; the edges are left as tracked
    assert np.all(raised[:10] == 0) and np.allclose(raised[inside], 2 * b4)
    assert np.allclose(correct_tracking_errors(weak_fundamental_b4, RATE, track, 250), track)
    # a B4 tracked on its second harmonic (B5) or, clarinet-like with odd harmonics only, on its third (F#6)
    strings = tone(b4, [0, -6, -9, -12, -15, -18])
    clarinet = tone(b4, [0, -40, -3, -40, -8, -40, -12])
    assert np.allclose(correct_tracking_errors(strings, RATE, 2 * track, 250)[inside], b4)
    assert np.allclose(correct_tracking_errors(clarinet, RATE, 3 * track, 250)[inside], b4)
    assert np.allclose(correct_tracking_errors(strings, RATE, track, 250), track)
    # never moved out of the instrument's range (and its margin): such a move is the window's leakage misread
    assert np.allclose(correct_tracking_errors(clarinet, RATE, 3 * track, 250, pitch_range=(77, 100)), 3 * track)


def test_a_blip_outside_the_instruments_range_is_no_note() -> None:
    """A flute's E6 after a 150-ms onset tracked as F2 (Philharmonia's E6 phrase): only the E6 is the flute's."""
    blip = tone(float(midi_to_hz(41)), [0, -6, -12], seconds=0.15)
    held = tone(float(midi_to_hz(88)), [0, -25, -30], seconds=1.0)
    audio = np.concatenate([np.zeros(RATE // 10), blip, held, np.zeros(RATE // 10)])
    assert [n.pitch for n in transcribe(audio, RATE)] == [41, 88]
    notes = transcribe(audio, RATE, pitch_range=(60, 98))
    assert [n.pitch for n in notes] == [88] and notes[0].offset - notes[0].onset > 0.9
    # two semitones under the range: a breath-long blip is dropped, a held note kept (players reach past it)
    for seconds, kept in ((0.08, [88]), (0.3, [57, 88])):
        reach = np.concatenate([np.zeros(RATE // 10), tone(float(midi_to_hz(57)), [0, -6, -12], seconds), held])
        assert [n.pitch for n in transcribe(reach, RATE)] == [57, 88]
        assert [n.pitch for n in transcribe(reach, RATE, pitch_range=(60, 98))] == kept


def test_phenicx_flute_holds_its_b5_where_the_tracker_hears_b4() -> None:
    """PHENICX's flute1: A5 then a held B5, which SwiftF0 tracks as B4 for 0.45 s (the B4 is 40 dB under)."""
    path = shared_data() / "real-excerpts/phenicx_anechoic/audio/beethoven/flute1.wav"
    if not path.exists():
        pytest.skip(f"needs {path} (shared/data)")
    audio, rate = sf.read(path, dtype="float32")
    notes = transcribe(audio, rate)
    assert [n.pitch for n in notes] == [81, 83]  # one B5, no longer split by the octave error and its flickers
    assert notes[1].onset < 0.2 and notes[1].offset > 0.9
