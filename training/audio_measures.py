"""Measurements of rendered audio against the notes it should play: pitch, onsets, release, level, envelopes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import librosa
import numpy as np

from readdsp.core.audio_out import loudness_lufs
from readdsp.core.features import VOICED_THRESHOLD, a_weighted_loudness, track_f0
from readdsp.core.performance import Note
from readdsp.core.resample import resample
from readdsp.core.units import amplitude_to_db, hz_to_midi

#: Notes at least this long are pitch-checked (issue 12: >= 98% of them within PITCH_TOLERANCE_CENTS).
MIN_PITCH_NOTE_S = 0.15
PITCH_TOLERANCE_CENTS = 25.0
#: The pitch of a note is read from its sustained middle: this long after the onset to this long before the offset.
PITCH_SKIP_ONSET_S = 0.06
PITCH_SKIP_OFFSET_S = 0.03
#: Release: the level this window after note-off (s), against the note's own level; only notes followed by
#: RELEASE_SILENCE_S of silence are read. Target: at least RELEASE_TARGET_DB under the note.
RELEASE_WINDOW_S = (0.3, 0.4)
RELEASE_SILENCE_S = 0.45
RELEASE_TARGET_DB = 20.0
ONSET_RATE = 22050
ONSET_HOP = 256
F0_FRAME_RATE = 250
YIN_RATE = 16000
YIN_FMIN, YIN_FMAX = 40.0, 2100.0
ARRIVAL_SEARCH_S = (0.1, 0.3)
#: Loudness is measured with the audio's peak brought here (see `lufs`).
GATE_PEAK = 0.5


def _db(power: float) -> float:
    return float(10.0 * np.log10(max(power, 1e-12)))


@dataclass
class PitchTrack:
    """A render's pitch on the 250 Hz grid: the pitch (MIDI, fractional) from librosa's YIN, which is exact to a
    cent on a steady tone (SwiftF0's classes are 33 cents apart, too coarse for a 25-cent check), and whether each
    frame is voiced, from SwiftF0's confidence."""

    midi: np.ndarray
    voiced: np.ndarray

    @classmethod
    def of(cls, audio: np.ndarray, sample_rate: int) -> PitchTrack:
        f0, confidence = track_f0(audio, sample_rate, F0_FRAME_RATE)
        y = resample(audio, sample_rate, YIN_RATE)
        fine = librosa.yin(
            y, fmin=YIN_FMIN, fmax=YIN_FMAX, sr=YIN_RATE, frame_length=1024, hop_length=YIN_RATE // F0_FRAME_RATE
        )
        fine = np.pad(fine, (0, max(0, len(f0) - len(fine))), mode="edge")[: len(f0)]
        return cls(hz_to_midi(np.maximum(fine, 1.0)).astype(float), (confidence >= VOICED_THRESHOLD) & (f0 > 0))

    @property
    def times(self) -> np.ndarray:
        return np.arange(len(self.midi)) / F0_FRAME_RATE

    def sustained(self, note: Note) -> np.ndarray:
        """The voiced pitch values of a note's sustained middle."""
        t = self.times
        pick = (t >= note.onset + PITCH_SKIP_ONSET_S) & (t <= note.offset - PITCH_SKIP_OFFSET_S) & self.voiced
        return self.midi[pick]

    def arrival_s(self, note: Note) -> float | None:
        """When the pitch first reaches within 50 cents of the note, searched from ARRIVAL_SEARCH_S[0] before the
        onset to ARRIVAL_SEARCH_S[1] after it (None if it never does)."""
        t = self.times
        pick = (t >= note.onset - ARRIVAL_SEARCH_S[0]) & (t <= min(note.offset, note.onset + ARRIVAL_SEARCH_S[1]))
        hit = np.flatnonzero(pick & self.voiced & (np.abs(self.midi - note.pitch) <= 0.5))
        return float(t[hit[0]]) if len(hit) else None


def note_pitch_cents(track: PitchTrack, notes: Sequence[Note]) -> list[float]:
    """Per note of MIN_PITCH_NOTE_S or longer: the median tracked pitch of its sustained middle against its MIDI
    pitch, in cents; NaN where fewer than 3 voiced frames sound (a miss)."""
    cents = []
    for note in notes:
        if note.duration < MIN_PITCH_NOTE_S:
            continue
        values = track.sustained(note)
        cents.append(float(np.median(100.0 * (values - note.pitch))) if len(values) >= 3 else float("nan"))
    return cents


def pitch_arrival_errors_ms(track: PitchTrack, notes: Sequence[Note]) -> list[float]:
    """Per note: |time its pitch arrives - its MIDI onset| (ms); a timing measure that legato notes, which an
    onset detector often misses, cannot fool. Notes whose pitch never arrives are left out."""
    found = [(track.arrival_s(note), note.onset) for note in notes]
    return [abs(at - onset) * 1000.0 for at, onset in found if at is not None]


def pitch_summary(cents: Sequence[float]) -> dict:
    """Share of checked notes within PITCH_TOLERANCE_CENTS (a miss counts as outside) and the median |error|."""
    c = np.asarray(cents, dtype=float)
    if not len(c):
        return {"notes": 0, "within_25_cents": None, "median_abs_cents": None}
    finite = np.abs(c[np.isfinite(c)])
    return {
        "notes": len(c),
        "within_25_cents": round(float(np.mean(np.abs(np.nan_to_num(c, nan=1e9)) <= PITCH_TOLERANCE_CENTS)), 4),
        "median_abs_cents": round(float(np.median(finite)), 2) if len(finite) else None,
    }


def onset_errors_ms(audio: np.ndarray, sample_rate: int, notes: Sequence[Note]) -> list[float]:
    """Per note: distance (ms) from its MIDI onset to the nearest onset librosa detects in the audio."""
    y = resample(audio, sample_rate, ONSET_RATE)
    found = librosa.onset.onset_detect(y=y, sr=ONSET_RATE, hop_length=ONSET_HOP, units="time", backtrack=False)
    if not len(found):
        return []
    return [float(np.min(np.abs(found - note.onset)) * 1000.0) for note in notes]


def _window_power(audio: np.ndarray, sample_rate: int, start_s: float, stop_s: float) -> float | None:
    a, b = int(round(start_s * sample_rate)), int(round(stop_s * sample_rate))
    if a < 0 or b > len(audio) or b <= a:
        return None
    return float(np.mean(np.square(audio[a:b], dtype=np.float64)))


def release_drops_db(audio: np.ndarray, sample_rate: int, notes: Sequence[Note]) -> list[float]:
    """Per note followed by RELEASE_SILENCE_S of silence: its level minus the level RELEASE_WINDOW_S after its
    note-off, in dB (a dry instrument falls far; a reverberant wash does not)."""
    ordered = sorted(notes, key=lambda n: n.onset)
    drops = []
    for i, note in enumerate(ordered):
        following = [n.onset for n in ordered[i + 1 :]] + [float("inf")]
        if min(following) - note.offset < RELEASE_SILENCE_S or note.duration < MIN_PITCH_NOTE_S:
            continue
        during = _window_power(audio, sample_rate, note.onset + 0.05, note.offset - 0.02)
        after = _window_power(audio, sample_rate, note.offset + RELEASE_WINDOW_S[0], note.offset + RELEASE_WINDOW_S[1])
        if during is not None and after is not None:
            drops.append(_db(during) - _db(after))
    return drops


def release_summary(drops: Sequence[float]) -> dict:
    d = np.asarray(drops, dtype=float)
    return {
        "notes": len(d),
        "median_drop_db": round(float(np.median(d)), 2) if len(d) else None,
        "share_over_20_db": round(float(np.mean(d >= RELEASE_TARGET_DB)), 4) if len(d) else None,
    }


def _median(values: Sequence[float]) -> float | None:
    return round(float(np.median(values)), 2) if len(values) else None


def lufs(audio: np.ndarray, sample_rate: int, peak: float | None = None) -> float:
    """Integrated loudness (LUFS, pyloudnorm) that scales with the audio: measured with `peak` (default: the
    audio's own) brought to GATE_PEAK, then taken back. BS.1770's absolute gate (-70 LUFS) would otherwise drop the
    quiet blocks of a quiet render but keep them once it is turned up, so a gain of g dB would not move it by g."""
    peak = float(np.max(np.abs(audio))) if peak is None and len(audio) else (peak or 0.0)
    if peak <= 0.0:
        return float("-inf")
    scale = GATE_PEAK / peak
    return loudness_lufs(np.asarray(audio, np.float64) * scale, sample_rate) - 20.0 * float(np.log10(scale))


def levels(audio: np.ndarray, sample_rate: int) -> dict:
    """Integrated loudness (LUFS, `lufs`) and sample peak (dBFS)."""
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    loudness = lufs(audio, sample_rate)
    return {
        "lufs": round(loudness, 2) if np.isfinite(loudness) else None,
        "peak_dbfs": round(float(amplitude_to_db(peak, floor_db=-240.0)), 2),
    }


def audio_checks(audio: np.ndarray, sample_rate: int, notes: Sequence[Note]) -> dict:
    """Pitch, onset timing, release and levels of one monophonic render against its notes."""
    onsets = onset_errors_ms(audio, sample_rate, notes)
    track = PitchTrack.of(audio, sample_rate)
    arrivals = pitch_arrival_errors_ms(track, notes)
    return {
        "pitch": pitch_summary(note_pitch_cents(track, notes)),
        "onset_median_error_ms": _median(onsets),
        "pitch_arrival_median_error_ms": _median(arrivals),
        "pitch_arrival_share": round(len(arrivals) / len(notes), 4) if notes else None,
        "release": release_summary(release_drops_db(audio, sample_rate, notes)),
        **levels(audio, sample_rate),
    }


def within_note_pitch_deviation(audio: np.ndarray, sample_rate: int, notes: Sequence[Note]) -> float | None:
    """Mean over notes of the spread (cents) of the tracked pitch in each note's sustained middle: how much the pitch
    moves within a note (vibrato, drift). The spread is 1.4826 x the median absolute deviation (the standard
    deviation for Gaussian movement), so a tracker's octave slip on a few frames does not dominate it."""
    return mean_spread(note_pitch_spreads(audio, sample_rate, notes))


def mean_spread(spreads: Sequence[float | None]) -> float | None:
    """The mean of the notes' within-note pitch spreads that could be measured (None if none could)."""
    measured = [s for s in spreads if s is not None]
    return float(np.mean(measured)) if measured else None


def note_pitch_spreads(audio: np.ndarray, sample_rate: int, notes: Sequence[Note]) -> list[float | None]:
    """Per note, the spread (cents) of the tracked pitch in its sustained middle (`within_note_pitch_deviation`);
    None where fewer than 5 voiced frames sound."""
    track = PitchTrack.of(audio, sample_rate)
    return [robust_spread(100.0 * v) if len(v) >= 5 else None for v in (track.sustained(note) for note in notes)]


def robust_spread(values: np.ndarray) -> float:
    """1.4826 x the median absolute deviation from the median."""
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def loudness_contour(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """A-weighted loudness (dB) on the 250 Hz grid."""
    return np.asarray(a_weighted_loudness(np.asarray(audio, np.float32), sample_rate, F0_FRAME_RATE), dtype=float)


def contour_correlation(reference: np.ndarray, candidate: np.ndarray) -> float | None:
    """Pearson r of two loudness contours over the reference's length (None when either is flat)."""
    n = min(len(reference), len(candidate))
    a, b = reference[:n], candidate[:n]
    if n < 3 or a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def spectral_envelope(audio: np.ndarray, sample_rate: int, n_mels: int = 64) -> np.ndarray:
    """The mean log-mel spectrum (dB) over the frames within 40 dB of the loudest, on audio at unit RMS: the
    long-term spectral envelope, independent of level and of silences."""
    y = np.asarray(audio, np.float64)
    y = y / max(float(np.sqrt(np.mean(y**2))), 1e-12)
    n_fft = int(2 ** np.ceil(np.log2(0.043 * sample_rate)))
    mel = librosa.feature.melspectrogram(
        y=y, sr=sample_rate, n_fft=n_fft, hop_length=n_fft // 4, n_mels=n_mels, fmin=40
    )
    energy = mel.sum(axis=0)
    active = energy >= energy.max() * 1e-4
    return librosa.power_to_db(mel[:, active].mean(axis=1) + 1e-10)


def spectral_envelope_distance(reference: np.ndarray, candidate: np.ndarray, sample_rate: int) -> float:
    """Mean absolute difference (dB) between the two spectral envelopes."""
    return float(np.mean(np.abs(spectral_envelope(reference, sample_rate) - spectral_envelope(candidate, sample_rate))))
