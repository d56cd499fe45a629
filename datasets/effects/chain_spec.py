"""Effect chain specs (JSON or YAML): load, validate, and resolve paths relative to the spec file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.effects.user_audio import validate_sample_rate

#: Effect type -> the parameters it accepts (with pedalboard's names).
EFFECT_PARAMS: dict[str, tuple[str, ...]] = {
    "distortion": ("drive_db",),
    "drive": ("drive_db", "tone_hz", "low_cut_hz", "level_db"),
    "clipping": ("threshold_db",),
    "compressor": ("threshold_db", "ratio", "attack_ms", "release_ms"),
    "chorus": ("rate_hz", "depth", "centre_delay_ms", "feedback", "mix"),
    "phaser": ("rate_hz", "depth", "centre_frequency_hz", "feedback", "mix"),
    "delay": ("delay_seconds", "feedback", "mix"),
    "reverb": ("room_size", "damping", "wet_level", "dry_level", "width", "freeze_mode"),
    "pitch_shift": ("semitones",),
    "highpass": ("cutoff_frequency_hz",),
    "lowpass": ("cutoff_frequency_hz",),
    "gain": ("gain_db",),
    "convolution": ("ir", "generated_ir", "mix"),
    "vst3": ("path", "parameters"),
}
#: Path-valued parameters, resolved relative to the spec file's folder.
PATH_PARAMS = {("convolution", "ir"), ("vst3", "path")}


@dataclass
class ChainSpec:
    """A validated chain spec; `raw` is exactly what the file said (recorded in the manifest)."""

    path: Path
    name: str
    sample_rate: int
    tail_seconds: float
    effects: list[dict[str, Any]]
    reaper_fxchain: Path | None = None
    audio_folder: Path | None = None
    nam_metadata: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def _resolve(base: Path, value: str) -> Path:
    path = Path(os.path.expandvars(os.path.expanduser(str(value))))
    return path if path.is_absolute() else (base / path).resolve()


def _load_mapping(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as err:
            raise ReaDDSPError("YAML specs need PyYAML (pip install pyyaml); or use JSON", path) from err
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ReaDDSPError(f"not valid YAML ({err})", path) from err
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ReaDDSPError(f"not valid JSON (line {err.lineno}: {err.msg})", path) from err
    if not isinstance(data, dict):
        raise ReaDDSPError("a chain spec must be a JSON/YAML object", path)
    return data


def _check_effect(index: int, effect: Any, base: Path, path: Path) -> dict[str, Any]:
    if not isinstance(effect, dict) or "type" not in effect:
        raise ReaDDSPError(f"chain[{index}] must be an object with a 'type'", path)
    kind = effect["type"]
    if kind not in EFFECT_PARAMS:
        raise ReaDDSPError(f"chain[{index}]: unknown effect type {kind!r} (known: {', '.join(EFFECT_PARAMS)})", path)
    params = {k: v for k, v in effect.items() if k != "type"}
    unknown = sorted(set(params) - set(EFFECT_PARAMS[kind]))
    if unknown:
        allowed = ", ".join(EFFECT_PARAMS[kind])
        raise ReaDDSPError(
            f"chain[{index}] ({kind}): unknown parameter(s) {', '.join(unknown)} (allowed: {allowed})", path
        )
    for name, value in params.items():
        if (kind, name) in PATH_PARAMS:
            params[name] = _resolve(base, value)
        elif name not in ("generated_ir", "parameters") and not isinstance(value, int | float):
            raise ReaDDSPError(f"chain[{index}] ({kind}): {name} must be a number, got {value!r}", path)
    if kind == "convolution" and ("ir" in params) == ("generated_ir" in params):
        raise ReaDDSPError(f"chain[{index}] (convolution): give exactly one of 'ir' or 'generated_ir'", path)
    if kind == "vst3" and "path" not in params:
        raise ReaDDSPError(f"chain[{index}] (vst3): 'path' is required", path)
    return {"type": kind, **params}


def load_chain_spec(path: str | Path) -> ChainSpec:
    """Read and validate a chain spec; raises ReaDDSPError naming the file on any problem."""
    path = Path(path)
    if not path.is_file():
        raise ReaDDSPError("chain spec not found", path)
    data = _load_mapping(path)
    base = path.resolve().parent
    chain = data.get("chain", [])
    if not isinstance(chain, list):
        raise ReaDDSPError("'chain' must be a list of effects", path)
    effects = [_check_effect(i, e, base, path) for i, e in enumerate(chain)]
    reaper = data.get("reaper", {}) or {}
    fxchain = reaper.get("fxchain")
    if not effects and not fxchain:
        raise ReaDDSPError("the spec has neither a 'chain' nor a 'reaper.fxchain'", path)
    tail = data.get("tail_seconds", 1.0)
    if not isinstance(tail, int | float) or not 0 <= tail <= 30:
        raise ReaDDSPError(f"tail_seconds must be a number in [0, 30], got {tail!r}", path)
    return ChainSpec(
        path=path.resolve(),
        name=str(data.get("name", path.stem)),
        sample_rate=validate_sample_rate(int(data.get("sample_rate", 48000)), path),
        tail_seconds=float(tail),
        effects=effects,
        reaper_fxchain=_resolve(base, fxchain) if fxchain else None,
        audio_folder=_resolve(base, data["audio_folder"]) if data.get("audio_folder") else None,
        nam_metadata=dict(data.get("nam", {}) or {}),
        raw=data,
    )
