"""Turn a folder of a user's own audio + MIDI pairs (same file stem) into a cached training dataset.

Rules: `take1.wav` (or .flac/.mp3/.ogg) pairs with `take1.mid` (or .midi). Every pair must hold one monophonic
line: the MIDI's non-drum notes are merged and split with `split_monophonic` (legato overlaps up to 30 ms are
trimmed); more than one voice is an error. Audio is mixed to mono and resampled to the dataset rate. Notes
after the audio's end are an error (more than 0.5 s past it) or trimmed to it. Everything is checked
before anything is written, and the dataset folder appears only when complete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from readdsp.core.errors import ReaDDSPError
from readdsp.core.midi_io import read_midi
from readdsp.core.output_path import safe_file_stem
from readdsp.core.performance import Part
from readdsp.core.programs import instrument_for_part
from readdsp.core.resample import resample
from readdsp.core.voices import split_monophonic
from readdsp.datasets.cache import DatasetWriter
from readdsp.datasets.example_features import compute_features

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")
MIDI_SUFFIXES = (".mid", ".midi")
#: How far the notes may run past the end of the audio before the pair is refused.
MAX_OVERRUN_SECONDS = 0.5
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass
class Pair:
    stem: str
    audio_path: Path
    midi_path: Path


def find_pairs(folder: str | Path) -> list[Pair]:
    """The audio + MIDI pairs in `folder`, by stem; a file without its partner is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReaDDSPError("folder not found", folder)
    audio: dict[str, list[Path]] = {}
    midi: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        suffix = path.suffix.lower()
        if path.is_file() and suffix in AUDIO_SUFFIXES:
            audio.setdefault(path.stem, []).append(path)
        elif path.is_file() and suffix in MIDI_SUFFIXES:
            midi.setdefault(path.stem, []).append(path)
    for stem, paths in (*audio.items(), *midi.items()):
        if len(paths) > 1:
            raise ReaDDSPError(f"several files share the stem {stem!r}: {', '.join(p.name for p in paths)}", folder)
    for stem, (path,) in audio.items():
        if stem not in midi:
            raise ReaDDSPError(f"no MIDI partner (expected {stem}.mid next to it)", path)
    for stem, (path,) in midi.items():
        if stem not in audio:
            raise ReaDDSPError(f"no audio partner (expected {stem}.wav, .flac or .mp3 next to it)", path)
    if not audio:
        raise ReaDDSPError("no audio + MIDI pairs found (expected e.g. take1.wav + take1.mid)", folder)
    return [Pair(stem, audio[stem][0], midi[stem][0]) for stem in sorted(audio)]


def load_audio(path: Path, sample_rate: int) -> np.ndarray:
    """Mono float32 audio at `sample_rate`, or ReaDDSPError for an unreadable or empty file."""
    try:
        data, rate = sf.read(path, dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, OSError) as err:
        raise ReaDDSPError(f"unreadable audio ({' '.join(str(err).split())})", path) from err
    if data.size == 0:
        raise ReaDDSPError("audio file holds no samples", path)
    mono = data.mean(axis=1)
    if rate != sample_rate:
        mono = resample(mono, rate, sample_rate)
    return np.ascontiguousarray(mono, dtype=np.float32)


def monophonic_notes(midi_path: Path) -> tuple[np.ndarray, Part]:
    """[n, 4] notes (pitch, onset, offset, velocity) of the MIDI's single line, and the merged part."""
    performance = read_midi(midi_path)
    parts = [part for part in performance.parts if not part.is_drum and part.notes]
    if not parts:
        raise ReaDDSPError("contains no notes (drums are ignored)", midi_path)
    merged = Part(
        name=parts[0].name, program=parts[0].program, channel=parts[0].channel, instrument=parts[0].instrument
    )
    merged.notes = [note for part in parts for note in part.notes]
    voices = split_monophonic(merged)
    if len(voices) > 1:
        raise ReaDDSPError(f"holds {len(voices)} simultaneous voices; a pair must be one monophonic line", midi_path)
    notes = sorted(voices[0].notes, key=lambda n: n.onset)
    return np.array([[n.pitch, n.onset, n.offset, n.velocity] for n in notes], np.float64), merged


def _checked_notes(notes: np.ndarray, audio_seconds: float, midi_path: Path) -> np.ndarray:
    overrun = notes[:, 2].max() - audio_seconds
    if overrun > MAX_OVERRUN_SECONDS:
        raise ReaDDSPError(f"notes run {overrun:.2f} s past the end of the audio ({audio_seconds:.2f} s)", midi_path)
    notes = notes[notes[:, 1] < audio_seconds].copy()
    notes[:, 2] = np.minimum(notes[:, 2], audio_seconds)
    return notes


def build_from_pairs(
    folder: str | Path,
    out_dir: str | Path,
    sample_rate: int = 24000,
    instrument: str | None = None,
    overwrite: bool = False,
) -> dict:
    """Cache every pair in `folder` into a dataset at `out_dir`; returns a summary dict."""
    if instrument is not None and not _NAME.match(instrument):
        raise ReaDDSPError(f"instrument name {instrument!r} may use only letters, digits, '_', '-' and '.'")
    pairs = find_pairs(folder)
    planned = []
    for pair in pairs:  # check every MIDI file before writing anything
        notes, part = monophonic_notes(pair.midi_path)
        name = instrument or instrument_for_part(part)
        if name is None:
            raise ReaDDSPError("cannot tell the instrument; pass --instrument", pair.midi_path)
        planned.append((pair, notes, name))
    settings = {"command": "from-pairs", "source_folder": str(Path(folder).resolve())}
    total = 0.0
    with DatasetWriter(out_dir, sample_rate, sorted({p[2] for p in planned}), overwrite, settings) as writer:
        for pair, notes, name in tqdm(planned, desc="from-pairs", unit="pair"):
            audio = load_audio(pair.audio_path, sample_rate)
            features = compute_features(audio, sample_rate)
            kept = _checked_notes(notes, len(features.audio) / sample_rate, pair.midi_path)
            if len(kept) == 0:
                raise ReaDDSPError("no note starts inside the audio", pair.midi_path)
            example_id = safe_file_stem(pair.stem, "_.-", runs=True)
            writer.add(
                example_id,
                features.audio,
                features.f0_hz,
                features.f0_confidence,
                features.loudness_db,
                kept,
                name,
                f"pairs:{pair.stem}",
                "pairs",
            )
            total += len(features.audio) / sample_rate
    return {"examples": len(planned), "seconds": total}
