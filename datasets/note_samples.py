"""Turn folders of single-note samples named by pitch (`cello/A2.wav`, `flute/Cs5.mp3`) into a training dataset.

Each sub-folder of the source is an instrument, named as the bundle to be adapted names it. Each audio file in it is
one note. Its pitch is the first word of the file name (words are split at a space, `_` or `-`) that is a note name:
`A4`, `As4` or `A#4` for A sharp, `Bb3`; so `F2 v2.mp3` is another F2, and sample libraries' names such as
Philharmonia's `cello_A2_1_forte_arco-normal.mp3` or TinySOL's `Fl-ord-C4-mf-N-T14d.wav` read as they are. A dynamic
marking among the words (`pp` to `ff`, `pianissimo` to `fortissimo`) sets the note's velocity. The note starts at
the first 10-ms frame within ONSET_WITHIN_DB of the loudest and ends at the last within OFFSET_WITHIN_DB. A note whose
tracked f0 is not its name's, or whose pitch lies outside the tracker's range, is left out with a warning: its f0
would train wrong. Every file is read, timed and its pitch heard before anything is written, and the dataset folder
appears only when complete.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import librosa
import numpy as np
from tqdm import tqdm

from readdsp.core.errors import ReaDDSPError
from readdsp.core.features.f0 import TRACKER_FMIN
from readdsp.core.note_frames import FRAME_RATE
from readdsp.core.output_path import safe_file_stem
from readdsp.core.performance import Note
from readdsp.core.units import amplitude_to_db
from readdsp.datasets.cache import DatasetWriter
from readdsp.datasets.example_features import compute_features
from readdsp.datasets.pairs import AUDIO_SUFFIXES, load_audio

log = logging.getLogger(__name__)

ONSET_WITHIN_DB = 30.0
OFFSET_WITHIN_DB = 20.0
#: A timed note shorter than this is not a note (a click, or silence with noise).
MIN_NOTE_SECONDS = 0.2
#: A file whose level never reaches this (dBFS, RMS) holds no note.
SILENCE_DB = -90.0
#: How far the heard pitch (median over the note) may sit from the named one.
PITCH_TOLERANCE_CENTS = 50.0
#: The f0 range `compute_features` tracks (core.features.f0.track_f0's defaults, clamped to SwiftF0's range): a note
#: outside it would train on a wrong f0, and is left out.
TRACKED_HZ = (max(30.0, TRACKER_FMIN), 2000.0)
_NOTE_NAME = re.compile(r"^([A-Ga-g])(s|#|b)?(\d)$")
_WORD_BREAK = re.compile(r"[ _]+")
#: Dynamic markings (as sample libraries such as Philharmonia and TinySOL name them) -> MIDI velocity.
DYNAMIC_VELOCITY = {
    "pianissimo": 24,
    "pp": 24,
    "piano": 40,
    "p": 40,
    "mezzo-piano": 56,
    "mp": 56,
    "mezzo-forte": 72,
    "mf": 72,
    "forte": 96,
    "f": 96,
    "fortissimo": 120,
    "ff": 120,
}
_INSTRUMENT = re.compile(r"^[A-Za-z0-9_.-]+$")


def _words(name: str) -> list[str]:
    """A sample name's words, split at spaces and `_`, each also split at `-` after it is tried whole
    ("mezzo-forte" is one marking, "Fl-ord-C4-mf" four words)."""
    words = []
    for word in _WORD_BREAK.split(name):
        words += [word, *word.split("-")] if "-" in word else [word]
    return words


def pitch_from_name(name: str) -> int | None:
    """MIDI pitch of a sample's name, its first word that is a note name: 'A4' -> 69, 'As4'/'A#4' -> 70,
    'Bb3' -> 58 (A4 = 69), 'cello_A2_1_forte' -> 45; None if it names none."""
    for word in _words(name):
        if match := _NOTE_NAME.match(word):
            letter, accidental, octave = match.groups()
            accidental = {"s": "#", None: ""}.get(accidental, accidental)
            return int(librosa.note_to_midi(f"{letter.upper()}{accidental}{octave}"))
    return None


def velocity_from_name(name: str, default: int) -> int:
    """The velocity of the first dynamic marking among a sample name's words (DYNAMIC_VELOCITY), else `default`."""
    for word in _words(name):
        if word in DYNAMIC_VELOCITY:  # lower case only, as libraries write them: a lone "F" is a note letter
            return DYNAMIC_VELOCITY[word]
    return default


def timed_note(audio: np.ndarray, sample_rate: int, pitch: int, velocity: int) -> Note | None:
    """A single note's onset and offset from its level (10-ms frames); None if it lasts under MIN_NOTE_SECONDS or
    the file is silent (under SILENCE_DB throughout)."""
    hop = sample_rate // 100
    rms = librosa.feature.rms(y=audio, frame_length=4 * hop, hop_length=hop)[0]
    level = amplitude_to_db(rms, floor_db=-120.0)
    top = float(level.max())
    if top < SILENCE_DB:
        return None
    on = np.flatnonzero(level >= top - ONSET_WITHIN_DB)
    off = np.flatnonzero(level >= top - OFFSET_WITHIN_DB)
    onset, offset = on[0] * hop / sample_rate, off[-1] * hop / sample_rate
    if offset - onset < MIN_NOTE_SECONDS:
        return None
    return Note(pitch, float(onset), float(offset), velocity)


def heard_cents(f0_hz: np.ndarray, confidence: np.ndarray, note: Note, frame_rate: int) -> float | None:
    """The median distance (cents) of the note's confidently pitched frames from its named pitch."""
    frames = slice(int(note.onset * frame_rate), int(note.offset * frame_rate) + 1)
    f0, sure = f0_hz[frames], confidence[frames] > 0.5
    if sure.sum() < 5:
        return None
    return float(np.median(1200.0 * np.log2(f0[sure] / librosa.midi_to_hz(note.pitch))))


def find_note_samples(folder: str | Path) -> list[tuple[Path, str, int]]:
    """(file, instrument, named pitch) for every audio file in the instrument sub-folders of `folder`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReaDDSPError("folder not found", folder)
    found = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if not _INSTRUMENT.match(sub.name):
            raise ReaDDSPError("an instrument folder's name may use only letters, digits, '_', '-' and '.'", sub)
        for path in sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES):
            pitch = pitch_from_name(path.stem)
            if pitch is None or not 0 <= pitch <= 127:
                raise ReaDDSPError("the file name holds no note name such as A4, Cs5 or Bb3", path)
            found.append((path, sub.name, pitch))
    if not found:
        raise ReaDDSPError("no note samples found (expected e.g. cello/A2.wav: one folder per instrument)", folder)
    return found


def build_from_note_samples(
    folder: str | Path, out_dir: str | Path, sample_rate: int = 48000, velocity: int = 80, overwrite: bool = False
) -> dict:
    """Cache every note sample under `folder` into a dataset at `out_dir`; returns a summary dict."""
    if not 1 <= velocity <= 127:
        raise ReaDDSPError(f"velocity must be 1..127, not {velocity}")
    planned, left_out = [], []
    for path, instrument, pitch in tqdm(find_note_samples(folder), desc="reading notes", unit="note"):
        name = librosa.midi_to_note(pitch, unicode=False)
        if not TRACKED_HZ[0] <= librosa.midi_to_hz(pitch) <= TRACKED_HZ[1]:
            left_out.append(f"{path}: {name} lies outside the f0 tracker's {TRACKED_HZ[0]:.0f}-{TRACKED_HZ[1]:.0f} Hz")
            continue
        audio = load_audio(path, sample_rate)
        note = timed_note(audio, sample_rate, pitch, velocity_from_name(path.stem, velocity))
        if note is None:
            raise ReaDDSPError(f"holds no note of {MIN_NOTE_SECONDS} s or more (silent, or a click)", path)
        features = compute_features(audio, sample_rate)
        cents = heard_cents(features.f0_hz, features.f0_confidence, note, FRAME_RATE)
        if cents is None or abs(cents) > PITCH_TOLERANCE_CENTS:
            # a wrong name or the tracker's octave error: either way the note's f0 would train wrong
            heard = "no steady pitch" if cents is None else f"a pitch {cents:+.0f} cents from it"
            left_out.append(f"{path}: named {name}, but the f0 tracker hears {heard}")
            continue
        planned.append((path, instrument, note, features))
    for reason in left_out:
        log.warning("left out %s", reason)
    if not planned:
        raise ReaDDSPError("no note could be used (each was left out; see the warnings)", folder)
    settings = {"command": "from-notes", "source_folder": str(Path(folder).resolve()), "velocity": velocity}
    seconds: dict[str, float] = {}
    with DatasetWriter(out_dir, sample_rate, sorted({p[1] for p in planned}), overwrite, settings) as writer:
        for path, instrument, note, features in planned:
            stem = safe_file_stem(f"{instrument}_{path.stem}", "_.-", runs=True)
            notes = np.array([[note.pitch, note.onset, note.offset, note.velocity]], np.float64)
            writer.add(
                stem,
                features.audio,
                features.f0_hz,
                features.f0_confidence,
                features.loudness_db,
                notes,
                instrument,
                f"notes:{stem}",
                "notes",
            )
            seconds[instrument] = seconds.get(instrument, 0.0) + len(features.audio) / sample_rate
    return {"examples": len(planned), "left_out": left_out, "seconds_per_instrument": seconds}
