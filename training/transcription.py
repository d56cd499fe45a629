"""Notes of a real monophonic recording, from its f0 track with the tracker's octave-low errors corrected."""

from __future__ import annotations

import librosa
import numpy as np

from readdsp.core.features import track_f0
from readdsp.core.note_frames import FRAME_RATE
from readdsp.core.performance import Note
from readdsp.core.units import hz_to_midi

#: A tracked f0 whose fundamental and third harmonic both stand this far under its second harmonic is an octave low,
#: and the frame's pitch is the second harmonic's. PHENICX's flute1 holds a B5 that SwiftF0 tracks as B4 for 0.45 s
#: (confidence 0.86), where the spectrum's B4 lies 40 dB under its B5 and its F#6 (the third harmonic) as far.
OCTAVE_ERROR_DB = 20.0
#: How far from an exact multiple of f0 a harmonic's peak is looked for (a fraction of its frequency).
HARMONIC_WIDTH = 0.03
N_FFT_SECONDS = 0.09


def harmonic_levels(audio: np.ndarray, sample_rate: int, f0_hz: np.ndarray, frame_rate: int) -> np.ndarray:
    """Level (dB) of the first three harmonics of `f0_hz` at each frame (-inf where f0 is 0 or a harmonic lies
    past Nyquist): the peak magnitude within HARMONIC_WIDTH of each multiple, in a ~90-ms window at the frame."""
    n_fft = int(2 ** np.ceil(np.log2(N_FFT_SECONDS * sample_rate)))
    hop = max(int(round(sample_rate / frame_rate)), 1)
    spectrum = librosa.amplitude_to_db(np.abs(librosa.stft(audio, n_fft=n_fft, hop_length=hop)), ref=1.0, amin=1e-9)
    bin_hz = sample_rate / n_fft
    levels = np.full((len(f0_hz), 3), -np.inf)
    for frame in np.flatnonzero(f0_hz > 0):
        column = min(int(round(frame * sample_rate / frame_rate / hop)), spectrum.shape[1] - 1)
        for k in range(3):
            centre = (k + 1) * f0_hz[frame]
            if centre * (1 + HARMONIC_WIDTH) >= sample_rate / 2:
                break
            low = int(np.floor(centre * (1 - HARMONIC_WIDTH) / bin_hz))
            high = max(int(np.ceil(centre * (1 + HARMONIC_WIDTH) / bin_hz)), low + 1)
            levels[frame, k] = spectrum[low : high + 1, column].max()
    return levels


def correct_octave_errors(audio: np.ndarray, sample_rate: int, f0_hz: np.ndarray, frame_rate: int) -> np.ndarray:
    """`f0_hz` with every frame the tracker heard an octave low (OCTAVE_ERROR_DB) raised an octave."""
    levels = harmonic_levels(audio, sample_rate, f0_hz, frame_rate)
    heard = np.isfinite(levels).all(axis=1)
    fundamental, second, third = np.where(heard[:, None], levels, 0.0).T
    low = heard & (second - np.maximum(fundamental, third) > OCTAVE_ERROR_DB)
    return np.where(low, 2.0 * f0_hz, f0_hz)


def transcribe(audio: np.ndarray, sample_rate: int, min_frames: int = 10) -> list[Note]:
    """Notes from voiced runs of the f0 track (octave errors corrected), split where the rounded pitch changes; runs
    shorter than `min_frames` are dropped, and notes of one pitch that such a run or gap split are joined again."""
    f0, confidence = track_f0(audio, sample_rate, FRAME_RATE)
    f0 = correct_octave_errors(audio, sample_rate, f0, FRAME_RATE)
    voiced = (confidence > 0.5) & (f0 > 0)
    pitch = np.where(voiced, np.round(hz_to_midi(f0)), 0).astype(int)
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
    return notes
