"""NAM export: input.wav / output.wav (equal length, 24-bit, silent pre-roll per split) + config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from readdsp.core.atomic import write_json, write_wav
from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.effects.manifest import load_split, read_manifest

#: NAM's Dataset refuses a split whose start is not preceded by this much input silence (nam/data.py).
NAM_PRE_SILENCE_SECONDS = 0.4
SILENCE_SECONDS = 0.5


def nam_data_config(input_path: Path, output_path: Path, train_start: float, val_start: float) -> dict[str, Any]:
    """A `nam.train.full` data config for our export: train [train_start, val_start - silence), val after."""
    return {
        "train": {"start_seconds": train_start, "stop_seconds": val_start - SILENCE_SECONDS, "ny": 8192},
        "validation": {"start_seconds": val_start, "stop_seconds": None, "ny": None},
        "common": {"x_path": str(input_path), "y_path": str(output_path), "delay": 0},
    }


def export_nam(dataset_dir: str | Path, out_dir: str | Path) -> dict[str, Any]:
    """Write input.wav, output.wav and nam_data.json; returns the data config; refuses clipping audio."""
    dataset_dir, out_dir = Path(dataset_dir), Path(out_dir)
    sr = int(read_manifest(dataset_dir)["sample_rate"])
    silence = np.zeros(int(SILENCE_SECONDS * sr), np.float32)
    x_train, y_train, _ = load_split(dataset_dir, "train")
    x_val, y_val, _ = load_split(dataset_dir, "val")
    x = np.concatenate([silence, x_train, silence, x_val])
    y = np.concatenate([silence, y_train, silence, y_val])
    for name, audio in (("input", x), ("output", y)):
        peak = float(np.max(np.abs(audio)))
        if peak > 0.999:  # NAM refuses output that reaches full scale
            raise ReaDDSPError(
                f"{name} peaks at {peak:.3f} and would clip in 24-bit PCM; lower the chain's gain",
                dataset_dir,
            )
    val_start = (len(silence) * 2 + len(x_train)) / sr
    input_path, output_path = out_dir / "input.wav", out_dir / "output.wav"
    write_wav(input_path, x, sr, subtype="PCM_24")  # NAM reads WAV with wavio, which refuses float WAVs
    write_wav(output_path, y, sr, subtype="PCM_24")
    config = nam_data_config(input_path.resolve(), output_path.resolve(), SILENCE_SECONDS, val_start)
    write_json(out_dir / "nam_data.json", config)
    return config
