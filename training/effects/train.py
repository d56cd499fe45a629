"""`readdsp effects train`: fit a model on the train split, score ESR on held-out splits."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from readdsp.core.effects.apply import apply_model
from readdsp.core.effects.esr import esr
from readdsp.core.effects.fir import fit_fir
from readdsp.core.effects.model_file import EffectModel, load_model, save_model
from readdsp.core.effects.shaper import fit_shaper_fir
from readdsp.core.effects.wiener_hammerstein import fit_wiener_hammerstein
from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.effects.manifest import load_split, read_manifest

MODELS = ("fir", "shaper", "wiener-hammerstein", "chorus", "nam", "nam-lstm")
#: Our models (saved as .safetensors) and how each is fitted.
OURS = ("fir", "shaper", "wiener-hammerstein", "chorus")
#: Length of the Wiener-Hammerstein pre-FIR: 20 ms holds a first-order 80 Hz low cut to -40 dB.
PRE_FIR_SECONDS = 0.02
MAX_FIR_SECONDS = 4.0


def fit_fir_model(dataset_dir: Path, fir_seconds: float | None, max_seconds: float) -> EffectModel:
    """A learned FIR as long as the dataset's tail (capped), by least squares on the train split."""
    manifest = read_manifest(dataset_dir)
    x, y, sr = load_split(dataset_dir, "train")
    seconds = (
        fir_seconds if fir_seconds is not None else min(max(float(manifest["tail_seconds"]), 0.05), MAX_FIR_SECONDS)
    )
    length = max(1, int(seconds * sr))
    taps = fit_fir(x, y, length, max_seconds=max_seconds)
    return EffectModel("fir", sr, {"fir": taps}, {"fir_seconds": seconds, "dataset": manifest["name"]})


def fit_shaper_model(dataset_dir: Path, fir_seconds: float | None, max_seconds: float) -> EffectModel:
    """Waveshaper then FIR (Hammerstein), by alternating least squares on the train split."""
    manifest = read_manifest(dataset_dir)
    x, y, sr = load_split(dataset_dir, "train")
    seconds = fir_seconds if fir_seconds is not None else min(max(float(manifest["tail_seconds"]), 0.01), 1.0)
    knots, values, taps = fit_shaper_fir(x, y, sr, max(1, int(seconds * sr)), max_seconds=max_seconds)
    config = {"fir_seconds": seconds, "dataset": manifest["name"]}
    return EffectModel("shaper", sr, {"knots": knots, "values": values, "fir": taps}, config)


def fit_wiener_hammerstein_model(dataset_dir: Path, fir_seconds: float | None, max_seconds: float) -> EffectModel:
    """Pre-FIR, waveshaper, post-FIR (Wiener-Hammerstein), by Gauss-Newton and least squares on train."""
    manifest = read_manifest(dataset_dir)
    x, y, sr = load_split(dataset_dir, "train")
    seconds = fir_seconds if fir_seconds is not None else min(max(float(manifest["tail_seconds"]), 0.01), 1.0)
    pre, knots, values, post = fit_wiener_hammerstein(
        x, y, sr, int(PRE_FIR_SECONDS * sr), max(1, int(seconds * sr)), max_seconds=max_seconds
    )
    config = {"fir_seconds": seconds, "pre_fir_seconds": PRE_FIR_SECONDS, "dataset": manifest["name"]}
    arrays = {"pre_fir": pre, "knots": knots, "values": values, "fir": post}
    return EffectModel("wiener-hammerstein", sr, arrays, config)


def held_out_esr(model: EffectModel, dataset_dir: Path, split: str = "test") -> float:
    """ESR of the model on a held-out split."""
    x, y, sr = load_split(dataset_dir, split)
    return esr(apply_model(model, x, sr), y)


def train_model(
    dataset_dir: str | Path,
    model: str,
    out_path: str | Path,
    max_seconds: float = 600.0,
    fir_seconds: float | None = None,
    nam_max_steps: int | None = None,
) -> dict[str, Any]:
    """Train, save, and return {'model', 'path', 'val_esr', 'test_esr', 'seconds'}."""
    dataset_dir, out_path = Path(dataset_dir), Path(out_path)
    read_manifest(dataset_dir)
    if model not in MODELS:
        raise ReaDDSPError(f"unknown model {model!r} (expected one of {', '.join(MODELS)})")
    start = time.monotonic()
    if model in OURS:
        if out_path.suffix != ".safetensors":
            raise ReaDDSPError("our models are saved as .safetensors; use that extension", out_path)
        if model == "fir":
            fitted = fit_fir_model(dataset_dir, fir_seconds, max_seconds)
        elif model == "shaper":
            fitted = fit_shaper_model(dataset_dir, fir_seconds, max_seconds)
        elif model == "wiener-hammerstein":
            fitted = fit_wiener_hammerstein_model(dataset_dir, fir_seconds, max_seconds)
        else:
            from readdsp.core.effects.chorus import fit_chorus_model

            fitted = fit_chorus_model(dataset_dir, max_seconds)
        save_model(out_path, fitted)
    else:
        if out_path.suffix != ".nam":
            raise ReaDDSPError("NAM models are saved as .nam; use that extension", out_path)
        from readdsp.core.effects.nam_train import train_nam

        architecture = "lstm" if model == "nam-lstm" else "wavenet"
        train_nam(dataset_dir, out_path, architecture, max_seconds=max_seconds, max_steps=nam_max_steps)
    loaded = load_model(out_path)
    return {
        "model": model,
        "path": str(out_path),
        "val_esr": held_out_esr(loaded, dataset_dir, "val"),
        "test_esr": held_out_esr(loaded, dataset_dir, "test"),
        "seconds": round(time.monotonic() - start, 2),
        "finite": all(bool(np.isfinite(a).all()) for a in loaded.arrays.values()),
    }
