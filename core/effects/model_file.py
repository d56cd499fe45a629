"""One versioned, self-describing file for every effect model kind, read through a registry of kinds.

Ours: a safetensors file whose metadata holds `format`, `format_version`, `kind`, `sample_rate`, the kind's
JSON `config` and the training `info`; the arrays are its tensors. NAM's `.nam` JSON files load too. Version 1
files (before `format_version`) carried the same fields and still load.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

from readdsp.core.atomic import atomic_path
from readdsp.core.effects.base import EffectModel
from readdsp.core.effects.chorus_dsp import JuceChorusModel
from readdsp.core.effects.compressor import CompressorModel
from readdsp.core.effects.fir import FirModel
from readdsp.core.effects.gate import GateModel
from readdsp.core.effects.modulation import ModulatedDelayModel
from readdsp.core.effects.nam_model import load_nam
from readdsp.core.effects.phaser import PhaserModel
from readdsp.core.effects.shaper import ShaperModel
from readdsp.core.effects.tremolo import TremoloModel
from readdsp.core.effects.wiener_hammerstein import WienerHammersteinModel
from readdsp.core.errors import ReaDDSPError

FORMAT = "readdsp-effect-model"
FORMAT_VERSION = 2
REGISTRY: dict[str, type[EffectModel]] = {}


def register(cls: type[EffectModel]) -> type[EffectModel]:
    """Add a model kind; a kind registered twice is a programming error."""
    if cls.kind in REGISTRY:
        raise ValueError(f"effect model kind {cls.kind!r} is already registered")
    REGISTRY[cls.kind] = cls
    return cls


for _cls in (FirModel, ShaperModel, WienerHammersteinModel, JuceChorusModel, ModulatedDelayModel, PhaserModel,
             TremoloModel, CompressorModel, GateModel):  # fmt: skip
    register(_cls)


def save_model(path: str | Path, model: EffectModel) -> Path:
    """Write one of our models atomically as `.safetensors`."""
    if model.kind not in REGISTRY:
        raise ReaDDSPError(f"cannot save model kind {model.kind!r} as safetensors", path)
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "kind": model.kind,
        "sample_rate": str(model.sample_rate),
        "config": json.dumps(model.config()),
        "info": json.dumps(model.info),
    }
    arrays = {k: np.ascontiguousarray(v) for k, v in model.arrays().items()}
    with atomic_path(path, ".safetensors") as tmp:
        save_file(arrays, str(tmp), metadata=meta)
    return Path(path)


def _load_safetensors(path: Path) -> EffectModel:
    try:
        with safe_open(str(path), framework="np") as f:
            meta = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no iterator)
    except Exception as err:  # safetensors raises its own error types for corrupt files
        raise ReaDDSPError(f"not a readable safetensors file ({err})", path) from err
    if meta.get("format") != FORMAT:
        raise ReaDDSPError("not a ReaDDSP effect model (metadata 'format' missing)", path)
    version = meta.get("format_version", "1")
    if version not in {str(v) for v in range(1, FORMAT_VERSION + 1)}:
        raise ReaDDSPError(f"effect model format version {version} is newer than this ReaDDSP reads", path)
    kind = meta.get("kind")
    if kind not in REGISTRY:
        raise ReaDDSPError(f"unknown effect model kind {kind!r} (known: {', '.join(REGISTRY)})", path)
    try:
        sample_rate = int(meta.get("sample_rate", ""))
        config, info = json.loads(meta.get("config", "{}")), json.loads(meta.get("info", "{}"))
    except (ValueError, json.JSONDecodeError) as err:
        raise ReaDDSPError(f"model metadata is not valid ({err})", path) from err
    if not 8000 <= sample_rate <= 384000:
        raise ReaDDSPError(f"model sample rate {sample_rate} is outside 8000..384000", path)
    if not isinstance(config, dict) or not isinstance(info, dict):
        raise ReaDDSPError("model config/info must be JSON objects", path)
    try:
        model = REGISTRY[kind].from_arrays(sample_rate, arrays, config)
    except ValueError as err:
        raise ReaDDSPError(f"bad {kind} model: {err}", path) from err
    model.info = info
    return model


def load_model(path: str | Path) -> EffectModel:
    """Load a `.safetensors` (ours, any kind) or `.nam` model."""
    path = Path(path)
    if not path.is_file():
        raise ReaDDSPError("model file not found", path)
    return load_nam(path) if path.suffix.lower() == ".nam" else _load_safetensors(path)
