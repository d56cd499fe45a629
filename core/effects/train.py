"""`readdsp effects train`: fit a model to a dataset's train split and score it (ESR) on the held-out split."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from readdsp.core.effects.apply import apply_model
from readdsp.core.effects.esr import esr
from readdsp.core.effects.fir import fit_fir
from readdsp.core.effects.model_file import EffectModel, load_model, save_model
from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.effects.manifest import load_split, read_manifest

MODELS = ("fir", "nam", "nam-lstm")
MAX_FIR_SECONDS = 4.0


def fit_fir_model(dataset_dir: Path, fir_seconds: float | None, max_seconds: float) -> EffectModel:
    """A learned FIR as long as the dataset's tail (capped), by least squares on the train split."""
    manifest = read_manifest(dataset_dir)
    x, y, sr = load_split(dataset_dir, "train")
    seconds = fir_seconds if fir_seconds is not None else min(max(float(manifest["tail_seconds"]), 0.05), MAX_FIR_SECONDS)
    length = max(1, int(seconds * sr))
    taps = fit_fir(x, y, length, max_seconds=max_seconds)
    return EffectModel("fir", sr, {"fir": taps}, {"fir_seconds": seconds, "dataset": manifest["name"]})


def held_out_esr(model: EffectModel, dataset_dir: Path, split: str = "test") -> float:
    """ESR of the model on a held-out split (skipping the capture's silent pre-roll is unnecessary: it is silent)."""
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
    if model == "fir":
        if out_path.suffix != ".safetensors":
            raise ReaDDSPError("our models are saved as .safetensors; use that extension", out_path)
        fitted = fit_fir_model(dataset_dir, fir_seconds, max_seconds)
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
        "finite": bool(np.isfinite(loaded.arrays.get("fir", np.zeros(1))).all()),
    }
