"""Run an effect model file (ours or a .nam file) on an audio file."""

from __future__ import annotations

from pathlib import Path

import soundfile as sf

from readdsp.core.atomic import write_wav
from readdsp.core.effects.model_file import load_model
from readdsp.core.errors import ReaDDSPError


def apply_file(model_path: str | Path, in_path: str | Path, out_path: str | Path) -> Path:
    """Read `in_path` (mono mix), run the model, write a float WAV atomically; never touches the input."""
    model = load_model(model_path)
    try:
        audio, sr = sf.read(str(in_path), dtype="float32", always_2d=True)
    except Exception as err:
        raise ReaDDSPError(f"cannot read audio ({err})", in_path) from err
    try:
        out = model.process(audio.mean(axis=1), int(sr))
    except ReaDDSPError as err:
        raise ReaDDSPError(err.problem, in_path) from err
    return write_wav(out_path, out, sr)
