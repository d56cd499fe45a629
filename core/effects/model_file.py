"""Effect model files: ours are one safetensors file with JSON metadata; NAM's are `.nam` JSON files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from readdsp.core.atomic import atomic_path
from readdsp.core.errors import ReaDDSPError

FORMAT = "readdsp-effect-model"
KINDS = ("fir", "shaper", "wiener-hammerstein", "chorus")


@dataclass
class EffectModel:
    """A loaded model: kind (one of KINDS, or 'nam'), sample rate, arrays, and its JSON config."""

    kind: str
    sample_rate: int
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)


def save_model(path: str | Path, model: EffectModel) -> Path:
    """Write a safetensors model atomically; the config lives in the file's metadata."""
    if model.kind not in KINDS:
        raise ReaDDSPError(f"cannot save model kind {model.kind!r} as safetensors")
    meta = {
        "format": FORMAT,
        "kind": model.kind,
        "sample_rate": str(model.sample_rate),
        "config": json.dumps(model.config),
    }
    with atomic_path(path, ".safetensors") as tmp:
        save_file({k: np.ascontiguousarray(v) for k, v in model.arrays.items()}, str(tmp), metadata=meta)
    return Path(path)


def _load_safetensors(path: Path) -> EffectModel:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="np") as f:
            meta = f.metadata() or {}
        arrays = load_file(str(path))
    except Exception as err:  # safetensors raises its own error types for corrupt files
        raise ReaDDSPError(f"not a readable safetensors file ({err})", path) from err
    if meta.get("format") != FORMAT or meta.get("kind") not in KINDS:
        raise ReaDDSPError("not a ReaDDSP effect model (metadata format/kind missing)", path)
    return EffectModel(meta["kind"], int(meta["sample_rate"]), arrays, json.loads(meta.get("config", "{}")))


def _load_nam(path: Path) -> EffectModel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ReaDDSPError(f"not a valid .nam file ({err})", path) from err
    if not isinstance(data, dict) or "architecture" not in data or "weights" not in data:
        raise ReaDDSPError(".nam file lacks 'architecture' or 'weights'", path)
    return EffectModel("nam", int(data.get("sample_rate") or 48000), {}, data)


def load_model(path: str | Path) -> EffectModel:
    """Load a `.safetensors` (ours) or `.nam` model."""
    path = Path(path)
    if not path.is_file():
        raise ReaDDSPError("model file not found", path)
    return _load_nam(path) if path.suffix.lower() == ".nam" else _load_safetensors(path)
