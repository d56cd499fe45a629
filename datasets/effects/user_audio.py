"""User-supplied source audio (WAV/FLAC/MP3 in a folder) and sample-rate / bit-depth validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from readdsp.core.errors import ReaDDSPError
from readdsp.core.resample import resample

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3")
SUPPORTED_RATES = (22050, 32000, 44100, 48000, 88200, 96000)
#: Subtypes good enough for effect modelling; 8-bit and companded formats are refused.
GOOD_SUBTYPES = ("PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "MPEG_LAYER_III", "VORBIS", "OPUS")


def validate_sample_rate(sr: int, where: str | Path | None = None) -> int:
    """Return `sr` if it is one we support, else raise."""
    if int(sr) not in SUPPORTED_RATES:
        rates = ", ".join(map(str, SUPPORTED_RATES))
        raise ReaDDSPError(f"unsupported sample rate {sr} Hz (expected one of {rates})", where)
    return int(sr)


def validate_audio_file(path: str | Path) -> sf._SoundFileInfo:
    """Check an audio file is readable, has a supported rate and at least 16-bit depth; return its info."""
    path = Path(path)
    try:
        info = sf.info(str(path))
    except Exception as err:  # soundfile raises several types for unreadable files
        raise ReaDDSPError(f"cannot read audio ({err})", path) from err
    validate_sample_rate(info.samplerate, path)
    if info.subtype not in GOOD_SUBTYPES:
        raise ReaDDSPError(f"unsupported sample format {info.subtype} (need 16-bit or better PCM, float or MP3)", path)
    return info


def read_mono(path: str | Path, sr: int) -> np.ndarray:
    """Read a validated file as mono float32 at `sr` (resampled by core.resample if needed)."""
    info = validate_audio_file(path)
    audio, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if file_sr != sr:
        mono = resample(mono, file_sr, sr)
    del info
    return mono.astype(np.float32)


def audio_files(folder: str | Path) -> list[Path]:
    """Sorted WAV/FLAC/MP3 files under `folder` (recursive); raises if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReaDDSPError("audio folder not found", folder)
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not files:
        raise ReaDDSPError("no WAV, FLAC or MP3 files in this folder", folder)
    return files


def folder_material(folder: str | Path, sr: int, seconds: float, seed: int) -> np.ndarray:
    """Up to `seconds` of audio from the folder's files (seeded order), peak-normalised, 50 ms gaps."""
    files = audio_files(folder)
    order = np.random.default_rng(seed).permutation(len(files))
    gap = np.zeros(int(0.05 * sr), np.float32)
    parts: list[np.ndarray] = []
    have = 0
    want = int(seconds * sr)
    for i in order:
        if have >= want:
            break
        audio = read_mono(files[i], sr)
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak <= 1e-6:
            continue  # digital silence teaches nothing
        audio = audio * (0.7 / peak)
        parts += [audio, gap]
        have += len(audio) + len(gap)
    if not parts:
        return np.zeros(0, np.float32)
    return np.concatenate(parts)[:want].astype(np.float32)
