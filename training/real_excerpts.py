"""Mel distance to real recordings: transcribe each real clip, render its notes with ours and with FluidSynth."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from readdsp.core.performance import Part, Performance
from readdsp.core.programs import INSTRUMENTS
from readdsp.core.render import Renderer
from readdsp.core.resample import resample
from readdsp.training.transcription import transcribe

RATE = 24000
#: real clip (relative to shared/data/real-excerpts) -> our instrument
CLIPS = {
    "phenicx_anechoic/audio/beethoven/violin1.wav": "violin",
    "phenicx_anechoic/audio/beethoven/violin2.wav": "violin",
    "phenicx_anechoic/audio/beethoven/cello.wav": "cello",
    "phenicx_anechoic/audio/beethoven/flute1.wav": "flute",
    "phenicx_anechoic/audio/beethoven/clarinet1.wav": "clarinet",
    "phenicx_anechoic/audio/beethoven/trumpet1.wav": "trumpet",
    "tinysol/audio/Winds/Flute/ordinario/Fl-ord-C4-mf-N-T14d.wav": "flute",
}


def log_mel(audio: np.ndarray, sample_rate: int = RATE) -> np.ndarray:
    """64-band log-mel (dB) on audio normalised to unit RMS (levels differ between systems); ~43 ms windows, 10 ms
    hops at any rate."""
    audio = audio / max(float(np.sqrt(np.mean(audio**2))), 1e-9)
    scale = sample_rate / RATE
    mel = librosa.feature.melspectrogram(
        y=audio, sr=sample_rate, n_fft=int(1024 * scale), hop_length=int(240 * scale), n_mels=64, fmin=40
    )
    return librosa.power_to_db(mel + 1e-10)


def mel_distance(reference: np.ndarray, candidate: np.ndarray, sample_rate: int = RATE) -> float:
    """Mean absolute log-mel difference (dB) over the reference's length."""
    candidate = np.pad(candidate, (0, max(0, len(reference) - len(candidate))))[: len(reference)]
    return float(np.mean(np.abs(log_mel(reference, sample_rate) - log_mel(candidate, sample_rate))))


def compare_with_fluidsynth(renderer: Renderer, data_root: Path, soundfont: str = "fluidr3", seed: int = 0) -> dict:
    """Per clip: mel distance of our render and of FluidSynth's render of the same transcribed notes."""
    from readdsp.training.reference_renders import ours_render, soundfont_render

    rows = {}
    for rel, instrument in CLIPS.items():
        path = data_root / rel
        if not path.is_file() or instrument not in renderer.instruments:
            continue
        real, sr = sf.read(path, dtype="float32", always_2d=True)
        real = resample(real.mean(axis=1), sr, RATE)
        notes = transcribe(real, RATE, pitch_range=INSTRUMENTS[instrument].pitch_range)
        if not notes:
            continue
        perf = Performance([Part(instrument, INSTRUMENTS[instrument].program, instrument=instrument, notes=notes)])
        ours, theirs = ours_render(renderer, perf, RATE, seed), soundfont_render(perf, soundfont, RATE)
        rows[rel] = {
            "instrument": instrument,
            "notes": len(notes),
            "ours_db": round(mel_distance(real, ours), 3),
            "fluidsynth_db": round(mel_distance(real, theirs), 3),
        }
    if rows:
        rows["mean"] = {
            "ours_db": round(float(np.mean([r["ours_db"] for r in rows.values()])), 3),
            "fluidsynth_db": round(float(np.mean([r["fluidsynth_db"] for k, r in rows.items() if k != "mean"])), 3),
        }
    return rows
