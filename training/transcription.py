"""Notes of a real monophonic recording, from its f0 track with the tracker's harmonic errors corrected."""

from __future__ import annotations

import librosa
import numpy as np

from readdsp.core.features import track_f0
from readdsp.core.note_frames import FRAME_RATE
from readdsp.core.performance import Note
from readdsp.core.units import hz_to_midi

#: How far (dB) the levels that betray a tracker's harmonic error stand (`correct_tracking_errors`).
HARMONIC_ERROR_DB = 20.0
#: How far from an exact multiple of f0 a harmonic's peak is looked for (a fraction of its frequency).
HARMONIC_WIDTH = 0.03
N_FFT_SECONDS = 0.09
#: How far (semitones) past an instrument's practical range a recording's notes are still taken as played, and for
#: how long such a note must last: players reach past it (Philharmonia's alto saxophonist holds C6, three over, for
#: 0.2-0.4 s), a tracker's errors land an octave away or last a breath (40 ms of B3 inside a flute's D6 phrase).
RANGE_MARGIN = 5
OUT_OF_RANGE_MIN_S = 0.1


def harmonic_levels(
    audio: np.ndarray, sample_rate: int, f0_hz: np.ndarray, frame_rate: int, multiples: tuple[float, ...]
) -> np.ndarray:
    """Level (dB) at each of `multiples` of `f0_hz`, per frame: the peak magnitude within HARMONIC_WIDTH of it, in a
    ~90-ms window centred on the frame; -inf where f0 is 0, the multiple lies past Nyquist or the window runs past
    either end of the audio."""
    n_fft = int(2 ** np.ceil(np.log2(N_FFT_SECONDS * sample_rate)))
    hop = max(int(round(sample_rate / frame_rate)), 1)
    spectrum = librosa.amplitude_to_db(np.abs(librosa.stft(audio, n_fft=n_fft, hop_length=hop)), ref=1.0, amin=1e-9)
    bin_hz = sample_rate / n_fft
    levels = np.full((len(f0_hz), len(multiples)), -np.inf)
    centres = np.arange(len(f0_hz)) * sample_rate / frame_rate
    inside = (centres >= n_fft // 2) & (centres + n_fft // 2 <= len(audio))  # a window past an edge hears the cut
    for frame in np.flatnonzero((f0_hz > 0) & inside):
        column = min(int(round(centres[frame] / hop)), spectrum.shape[1] - 1)
        for k, multiple in enumerate(multiples):
            centre = multiple * f0_hz[frame]
            if centre * (1 + HARMONIC_WIDTH) >= sample_rate / 2:
                continue
            low = int(np.floor(centre * (1 - HARMONIC_WIDTH) / bin_hz))
            high = max(int(np.ceil(centre * (1 + HARMONIC_WIDTH) / bin_hz)), low + 1)
            levels[frame, k] = spectrum[low : high + 1, column].max()
    return levels


def correct_tracking_errors(
    audio: np.ndarray,
    sample_rate: int,
    f0_hz: np.ndarray,
    frame_rate: int,
    pitch_range: tuple[int, int] | None = None,
) -> np.ndarray:
    """`f0_hz` with the tracker's harmonic errors undone, frame by frame (HARMONIC_ERROR_DB):
    - heard an octave low, where the f0 and its third harmonic both stand that far under its second: raised an
      octave (PHENICX's flute1 holds a B5 that SwiftF0 tracks as B4, its B4 40 dB under its B5);
    - heard on a note's second or third harmonic, where two harmonics of the note under it that the f0's own series
      lacks stand within that of the f0 (an octave under it and a fifth over it; a twelfth under it and a sixth
      over it): lowered to that note. Under a true fundamental there is nothing (FluidR3_GM's violin C5 is tracked
      as C6 for 50 ms, its clarinet C5 as G6, the clarinet's strong third harmonic).
    With `pitch_range` (the instrument's lowest and highest MIDI pitch), no frame is moved out of it (by more than
    RANGE_MARGIN): under a cello's C2, whose fundamental stands far under its second harmonic, the window's leakage
    alone can pass for the notes an octave down."""
    levels = harmonic_levels(audio, sample_rate, f0_hz, frame_rate, (1.0, 2.0, 3.0, 1 / 2, 3 / 2, 1 / 3, 5 / 3))
    at, beside = levels[:, :3], levels[:, 3:]  # one spectrogram for both
    with np.errstate(invalid="ignore"):
        fundamental, second, third = at.T
        low = second - np.maximum(fundamental, third) > HARMONIC_ERROR_DB
        floor = np.where(np.isfinite(fundamental), fundamental - HARMONIC_ERROR_DB, np.inf)  # unheard: kept
        on_second = ~low & (beside[:, 0] >= floor) & (beside[:, 1] >= floor)
        on_third = ~low & ~on_second & (beside[:, 2] >= floor) & (beside[:, 3] >= floor)
    corrected = np.select([low, on_second, on_third], [2.0 * f0_hz, f0_hz / 2.0, f0_hz / 3.0], f0_hz)
    if pitch_range is not None:
        low_pitch, high_pitch = widened(pitch_range)
        pitch = hz_to_midi(corrected)
        outside = (pitch < low_pitch - 0.5) | (pitch > high_pitch + 0.5)
        corrected = np.where(outside & (corrected != f0_hz), f0_hz, corrected)
    return corrected


def widened(pitch_range: tuple[int, int]) -> tuple[int, int]:
    """An instrument's range with RANGE_MARGIN on each side."""
    return pitch_range[0] - RANGE_MARGIN, pitch_range[1] + RANGE_MARGIN


def transcribe(
    audio: np.ndarray, sample_rate: int, min_frames: int = 10, pitch_range: tuple[int, int] | None = None
) -> list[Note]:
    """Notes from voiced runs of the f0 track (harmonic errors corrected), split where the rounded pitch changes; runs
    shorter than `min_frames` are dropped, and notes of one pitch that such a run or gap split are joined again.
    With `pitch_range` (the recorded instrument's lowest and highest MIDI pitch), frames heard outside it by more
    than RANGE_MARGIN count as unvoiced (a flute recording's breath at an attack tracked as F2 is no note the flute
    played), and a note outside it by less is kept only from OUT_OF_RANGE_MIN_S."""
    f0, confidence = track_f0(audio, sample_rate, FRAME_RATE)
    f0 = correct_tracking_errors(audio, sample_rate, f0, FRAME_RATE, pitch_range)
    voiced = (confidence > 0.5) & (f0 > 0)
    pitch = np.where(voiced, np.round(hz_to_midi(f0)), 0).astype(int)
    if pitch_range is not None:
        low_pitch, high_pitch = widened(pitch_range)
        pitch[(pitch < low_pitch) | (pitch > high_pitch)] = 0
    notes, start = [], None
    for i in range(len(pitch) + 1):
        current = pitch[i] if i < len(pitch) else 0
        if start is not None and current != pitch[start]:
            if i - start >= min_frames:
                note = Note(int(pitch[start]), start / FRAME_RATE, i / FRAME_RATE, 90)
                if notes and notes[-1].pitch == note.pitch and note.onset - notes[-1].offset < min_frames / FRAME_RATE:
                    note = Note(note.pitch, notes.pop().onset, note.offset, note.velocity)  # a flicker, not a new note
                notes.append(note)
            start = None
        if start is None and current > 0:
            start = i
    if pitch_range is not None:
        notes = [
            n for n in notes if pitch_range[0] <= n.pitch <= pitch_range[1] or n.offset - n.onset >= OUT_OF_RANGE_MIN_S
        ]
    return notes
