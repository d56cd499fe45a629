"""Audio-domain measurements on synthetic signals with known answers: pitch, onsets, release, loudness, envelopes."""

from __future__ import annotations

import numpy as np
import pytest

from readdsp.core.performance import Note
from readdsp.core.units import midi_to_hz
from readdsp.training import audio_measures as am

SR = 24000


def tone(pitch: float, seconds: float, sr: int = SR, vibrato_cents: float = 0.0) -> np.ndarray:
    """A 5-harmonic tone (optionally with 5.5 Hz vibrato) with 10 ms fades."""
    t = np.arange(int(seconds * sr)) / sr
    cents = vibrato_cents * np.sin(2 * np.pi * 5.5 * t)
    phase = 2 * np.pi * np.cumsum(midi_to_hz(pitch + cents / 100.0)) / sr
    audio = sum(np.sin(k * phase) / k for k in range(1, 6)) * 0.2
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.01)
    return (audio * fade).astype(np.float32)


def line(notes: list[Note], total_s: float, detune_cents: float = 0.0, tail_s: float = 0.0) -> np.ndarray:
    """The notes rendered as tones; `tail_s` adds an exponential tail (a reverberant wash) after each note."""
    out = np.zeros(int(total_s * SR), np.float32)
    for note in notes:
        audio = tone(note.pitch + detune_cents / 100.0, note.duration + tail_s)
        if tail_s:
            t = np.arange(len(audio)) / SR
            audio *= np.where(t > note.duration, np.exp(-(t - note.duration) * 3.0), 1.0).astype(np.float32)
        start = int(note.onset * SR)
        out[start : start + len(audio)] += audio[: len(out) - start]
    return out


NOTES = [Note(69, 0.2, 0.8), Note(72, 1.5, 2.0), Note(64, 2.7, 3.5)]


def test_a_tone_in_tune_passes_the_pitch_check_and_one_30_cents_sharp_fails_it() -> None:
    in_tune = am.note_pitch_cents(am.PitchTrack.of(line(NOTES, 4.0), SR), NOTES)
    sharp = am.note_pitch_cents(am.PitchTrack.of(line(NOTES, 4.0, detune_cents=30), SR), NOTES)
    assert all(abs(c) < 5 for c in in_tune)
    assert all(abs(c - 30) < 5 for c in sharp)
    assert am.pitch_summary(in_tune)["within_25_cents"] == 1.0
    assert am.pitch_summary(sharp)["within_25_cents"] == 0.0


def test_a_silent_note_counts_as_a_pitch_miss() -> None:
    cents = am.note_pitch_cents(am.PitchTrack.of(line(NOTES[:2], 4.0), SR), NOTES)
    assert np.isnan(cents[2])
    assert am.pitch_summary(cents)["within_25_cents"] == pytest.approx(2 / 3, abs=1e-3)


def test_short_notes_are_not_pitch_checked() -> None:
    notes = [Note(69, 0.2, 0.3), Note(72, 0.5, 1.0)]
    assert len(am.note_pitch_cents(am.PitchTrack.of(line(notes, 1.5), SR), notes)) == 1


def test_onsets_and_pitch_arrival_land_on_the_notes() -> None:
    audio = line(NOTES, 4.0)
    assert np.median(am.onset_errors_ms(audio, SR, NOTES)) < 30.0
    assert np.median(am.pitch_arrival_errors_ms(am.PitchTrack.of(audio, SR), NOTES)) < 30.0
    late = [Note(n.pitch, n.onset - 0.08, n.offset) for n in NOTES]  # the audio starts 80 ms after these onsets
    assert np.median(am.pitch_arrival_errors_ms(am.PitchTrack.of(audio, SR), late)) > 60.0


def test_a_dry_note_passes_the_release_check_and_a_reverberant_tail_fails_it() -> None:
    dry = am.release_drops_db(line(NOTES, 4.5), SR, NOTES)
    wet = am.release_drops_db(line(NOTES, 4.5, tail_s=1.0), SR, NOTES)
    assert len(dry) == len(wet) == 3  # every note is followed by at least 450 ms of silence
    assert min(dry) > am.RELEASE_TARGET_DB
    assert max(wet) < am.RELEASE_TARGET_DB
    assert am.release_summary(wet)["share_over_20_db"] == 0.0


def test_release_is_read_only_where_silence_follows() -> None:
    notes = [Note(69, 0.2, 0.8), Note(72, 1.0, 1.5)]  # 200 ms gap after the first note
    assert len(am.release_drops_db(line(notes, 2.5), SR, notes)) == 1


def test_loudness_moves_by_the_gain_even_near_the_absolute_gate() -> None:
    audio = line(NOTES, 4.0) * 10 ** (-45 / 20)  # quiet: BS.1770's -70 LUFS gate would drop part of it
    for gain_db in (-20.0, 30.0):
        moved = am.lufs(audio * 10 ** (gain_db / 20), SR) - am.lufs(audio, SR)
        assert moved == pytest.approx(gain_db, abs=0.01)
    assert am.levels(audio, SR)["peak_dbfs"] == pytest.approx(20 * np.log10(np.abs(audio).max()), abs=0.01)


def test_spectral_envelope_distance_ignores_level_and_sees_timbre() -> None:
    audio = line(NOTES, 4.0)
    assert am.spectral_envelope_distance(audio, audio * 0.1, SR) < 1e-6
    t = np.arange(len(audio)) / SR
    darker = np.sin(2 * np.pi * 440 * t).astype(np.float32) * (audio != 0)
    assert am.spectral_envelope_distance(audio, darker, SR) > 5.0


def test_within_note_pitch_deviation_reads_vibrato() -> None:
    note = [Note(69, 0.0, 1.5)]
    steady = am.within_note_pitch_deviation(tone(69, 1.5), SR, note)
    wide = am.within_note_pitch_deviation(tone(69, 1.5, vibrato_cents=40), SR, note)
    assert steady < 3.0
    assert 25.0 < wide < 50.0  # a sine of 40 cents: 1.4826 x its median |deviation| (28 cents) is about 42


def test_loudness_contour_correlation() -> None:
    audio = line(NOTES, 4.0)
    contour = am.loudness_contour(audio, SR)
    assert am.contour_correlation(contour, am.loudness_contour(audio * 0.3, SR)) == pytest.approx(
        1.0, abs=1e-3
    )  # the -80 dB floor
    assert am.contour_correlation(contour, np.zeros_like(contour)) is None
