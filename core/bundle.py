"""Instrument bundles: one safetensors file of weights whose metadata holds the JSON config (self-describing)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from readdsp.core.atomic import atomic_path
from readdsp.core.errors import ReaDDSPError

BUNDLE_FORMAT = "readdsp-instrument-bundle/1"
METADATA_KEY = "readdsp_config"
DEFAULT_BUNDLE = "midi_ddsp_24k"


def bundled_dir() -> Path:
    """The folder of the bundles that ship inside the package."""
    return Path(str(resources.files("readdsp.core.bundles")))


def user_dir() -> Path:
    """The folder of the user's own bundles (created on demand)."""
    return Path(platformdirs.user_data_dir("readdsp")) / "instruments"


@dataclass
class Bundle:
    """A loaded bundle: its config and the state dict of each module, keyed by module name."""

    path: Path
    config: dict
    states: dict[str, dict[str, torch.Tensor]]

    @property
    def instruments(self) -> list[str]:
        return list(self.config["instruments"])


def save_bundle(path: str | Path, config: dict, modules: dict[str, torch.nn.Module | dict]) -> Path:
    """Write `modules` (nn.Modules or state dicts) and `config` as one safetensors file, atomically."""
    tensors: dict[str, torch.Tensor] = {}
    for name, module in modules.items():
        state = module.state_dict() if isinstance(module, torch.nn.Module) else module
        for key, value in state.items():
            tensors[f"{name}.{key}"] = value.detach().contiguous().cpu()
    metadata = {METADATA_KEY: json.dumps({"format": BUNDLE_FORMAT, **config})}
    with atomic_path(path, ".safetensors") as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return Path(path)


def read_bundle_config(path: str | Path) -> dict:
    """Only the JSON config of a bundle (cheap: reads the header)."""
    return _open(Path(path), tensors=False).config


def load_bundle(path: str | Path) -> Bundle:
    """Load a bundle file; a clear ReaDDSPError if it is missing, corrupt or not a ReaDDSP bundle."""
    return _open(Path(path), tensors=True)


def _open(path: Path, tensors: bool) -> Bundle:
    if not path.is_file():
        raise ReaDDSPError("no such instrument bundle", path)
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            states: dict[str, dict[str, torch.Tensor]] = {}
            if tensors:
                for key in f.keys():
                    module, _, param = key.partition(".")
                    states.setdefault(module, {})[param] = f.get_tensor(key)
    except (SafetensorError, OSError, ValueError) as err:
        raise ReaDDSPError(f"not a valid safetensors bundle ({err})", path) from None
    try:
        config = json.loads(metadata[METADATA_KEY])
    except (KeyError, json.JSONDecodeError):
        raise ReaDDSPError("safetensors file has no ReaDDSP config in its metadata", path) from None
    if config.get("format") != BUNDLE_FORMAT:
        raise ReaDDSPError(f"unsupported bundle format {config.get('format')!r}", path)
    return Bundle(path, config, states)


def bundle_paths() -> list[tuple[Path, bool]]:
    """All bundle files: (path, is_user_bundle), bundled ones first."""
    found = [(p, False) for p in sorted(bundled_dir().glob("*.safetensors"))]
    if user_dir().is_dir():
        found += [(p, True) for p in sorted(user_dir().glob("*.safetensors"))]
    return found


def resolve_bundle(name_or_path: str | Path | None = None) -> Path:
    """A bundle path from a file path, a bundle name (bundled or user), or None for the default."""
    if name_or_path is None:
        name_or_path = DEFAULT_BUNDLE
    candidate = Path(name_or_path)
    if candidate.suffix == ".safetensors" or candidate.is_file():
        return candidate
    for path, _ in bundle_paths():
        if path.stem == str(name_or_path):
            return path
    known = ", ".join(p.stem for p, _ in bundle_paths()) or "none installed"
    raise ReaDDSPError(f"unknown instrument bundle {name_or_path!r} (known: {known})")
