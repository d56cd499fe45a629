"""Run an effect model on audio (ours or a .nam file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from readdsp.core.atomic import write_wav
from readdsp.core.effects.fir import apply_fir
from readdsp.core.effects.model_file import EffectModel, load_model
from readdsp.core.effects.shaper import apply_shaper
from readdsp.core.effects.wiener_hammerstein import apply_wiener_hammerstein
from readdsp.core.errors import ReaDDSPError


def _apply_nam(model: EffectModel, audio: np.ndarray) -> np.ndarray:
    try:
        import torch
        from nam.models import init_from_nam
    except ImportError as err:
        raise ReaDDSPError("running .nam models needs neural-amp-modeler (pip install neural-amp-modeler)") from err
    net = init_from_nam(model.config)
    net.eval()
    with torch.no_grad():
        out = net(torch.as_tensor(np.asarray(audio, np.float32)), pad_start=True)
    return out.numpy().astype(np.float32)


def apply_model(model: EffectModel, audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Process mono audio; the rate must be the model's."""
    if sample_rate != model.sample_rate:
        raise ReaDDSPError(f"audio is {sample_rate} Hz but the model was trained at {model.sample_rate} Hz")
    if model.kind == "fir":
        return apply_fir(model.arrays["fir"], audio)
    if model.kind == "shaper":
        a = model.arrays
        return apply_fir(a["fir"], apply_shaper(a["knots"], a["values"], audio))
    if model.kind == "wiener-hammerstein":
        a = model.arrays
        return apply_wiener_hammerstein(a["pre_fir"], a["knots"], a["values"], a["fir"], audio)
    if model.kind == "chorus":
        from readdsp.core.effects.chorus import apply_chorus_model

        return apply_chorus_model(model, audio)
    if model.kind == "nam":
        return _apply_nam(model, audio)
    raise ReaDDSPError(f"unknown model kind {model.kind!r}")


def apply_file(model_path: str | Path, in_path: str | Path, out_path: str | Path) -> Path:
    """Read `in_path` (mono mix), run the model, write a float WAV atomically; never touches the input."""
    model = load_model(model_path)
    try:
        audio, sr = sf.read(str(in_path), dtype="float32", always_2d=True)
    except Exception as err:
        raise ReaDDSPError(f"cannot read audio ({err})", in_path) from err
    try:
        out = apply_model(model, audio.mean(axis=1), int(sr))
    except ReaDDSPError as err:
        raise ReaDDSPError(err.problem, in_path) from err
    return write_wav(out_path, out, sr)
