"""Instrument bundles: one self-describing safetensors file (weights, config, header) plus a sidecar of measurements.

`NAME.safetensors` holds the weights and, in its metadata, the JSON config (what the model is) and a header
(format version, model family, package version, creation date, content hash). `NAME.json` beside it holds what was
measured on the bundle (metrics, level calibration) and `NAME.md` its model card, so re-scoring a bundle never
rewrites its weights.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from importlib import metadata as package_metadata
from importlib import resources
from pathlib import Path

import platformdirs
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from readdsp.core.atomic import atomic_path, write_json
from readdsp.core.errors import ReaDDSPError

BUNDLE_FORMAT = "readdsp-instrument-bundle/2"
#: Older formats still read: /1 had no header, and kept its metrics inside the config.
READABLE_FORMATS = ("readdsp-instrument-bundle/1", BUNDLE_FORMAT)
METADATA_KEY = "readdsp_config"
HEADER_KEY = "readdsp_header"
DEFAULT_BUNDLE = "midi_ddsp_48k"


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
    header: dict = field(default_factory=dict)
    sidecar: dict = field(default_factory=dict)  # measurements: "metrics", "calibration" ({instrument: gain dB})

    @property
    def instruments(self) -> list[str]:
        return list(self.config["instruments"])

    @property
    def family(self) -> str:
        """The model family the loader dispatches on (`midi-ddsp` for bundles that predate the field)."""
        return str(self.config.get("model", "midi-ddsp"))


def sidecar_path(bundle_path: str | Path) -> Path:
    """`NAME.json` beside `NAME.safetensors`: the bundle's measurements."""
    return Path(bundle_path).with_suffix(".json")


def content_hash(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 over the tensors' names, dtypes, shapes and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().contiguous().cpu()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def _package_version() -> str:
    try:
        return package_metadata.version("readdsp")
    except package_metadata.PackageNotFoundError:
        return "unknown"


def save_bundle(path: str | Path, config: dict, modules: dict[str, torch.nn.Module | dict]) -> Path:
    """Write `modules` (nn.Modules or state dicts) and `config` as one safetensors file, atomically."""
    tensors: dict[str, torch.Tensor] = {}
    for name, module in modules.items():
        state = module.state_dict() if isinstance(module, torch.nn.Module) else module
        for key, value in state.items():
            tensors[f"{name}.{key}"] = value.detach().contiguous().cpu()
    config = {k: v for k, v in config.items() if k not in ("format", "metrics")}
    header = {
        "format": BUNDLE_FORMAT,
        "model_family": config.get("model", "midi-ddsp"),
        "package_version": _package_version(),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "content_sha256": content_hash(tensors),
    }
    metadata = {METADATA_KEY: json.dumps({"format": BUNDLE_FORMAT, **config}), HEADER_KEY: json.dumps(header)}
    with atomic_path(path, ".safetensors") as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return Path(path)


def write_sidecar(bundle_path: str | Path, updates: dict) -> Path:
    """Merge `updates` into the bundle's sidecar (`NAME.json`), atomically; the weights are not touched."""
    path = sidecar_path(bundle_path)
    current = _read_sidecar(Path(bundle_path))
    return write_json(path, {**current, **updates})


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
    if config.get("format") not in READABLE_FORMATS:
        raise ReaDDSPError(f"unsupported bundle format {config.get('format')!r}", path)
    try:
        header = json.loads(metadata.get(HEADER_KEY, "{}"))
    except json.JSONDecodeError:
        raise ReaDDSPError("bundle header is not valid JSON", path) from None
    sidecar = _read_sidecar(path)
    if "metrics" in config and "metrics" not in sidecar:  # format /1 kept them in the config
        sidecar["metrics"] = config["metrics"]
    return Bundle(path, config, states, header, sidecar)


def _read_sidecar(bundle_path: Path) -> dict:
    path = sidecar_path(bundle_path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ReaDDSPError(f"bundle sidecar is not valid JSON ({err})", path) from None
    if not isinstance(data, dict):
        raise ReaDDSPError("bundle sidecar must hold a JSON object", path)
    return data


def calibration_gains_db(bundle: Bundle) -> dict[str, float]:
    """Each instrument's level gain (dB) from the sidecar, checked: finite and within +-60 dB; 0 dB if unmeasured."""
    raw = bundle.sidecar.get("calibration", {})
    gains = raw if isinstance(raw, dict) else {}
    return _per_instrument(
        bundle, gains, 0.0, (-60.0, 60.0), "calibration gain for {name} must be a number of dB in -60..60"
    )


#: The largest per-instrument factor on the Expression Generator's vibrato a sidecar may hold.
MAX_VIBRATO_SCALE = 2.0


def vibrato_scales(bundle: Bundle) -> dict[str, float]:
    """Each instrument's factor on its generated vibrato from the sidecar ("vibrato_scale", fitted to real players'
    notes by `readdsp audio-check --vibrato-from`), checked: a finite number in 0..MAX_VIBRATO_SCALE; 1 if unfitted."""
    raw = bundle.sidecar.get("vibrato_scale", {})
    if not isinstance(raw, dict):
        raise ReaDDSPError("vibrato_scale must be an object of instrument -> factor", sidecar_path(bundle.path))
    problem = f"vibrato_scale for {{name}} must be a number in 0..{MAX_VIBRATO_SCALE:g}"
    return _per_instrument(bundle, raw, 1.0, (0.0, MAX_VIBRATO_SCALE), problem)


def _per_instrument(
    bundle: Bundle, values: dict, default: float, bounds: tuple[float, float], problem: str
) -> dict[str, float]:
    """Each of the bundle's instruments' number in the sidecar's `values` (`default` when absent), checked: a number
    (not a bool) within `bounds`, so never NaN or infinite; otherwise `problem`, naming the instrument, as a one-line
    error naming the sidecar."""
    low, high = bounds
    checked = {}
    for name in bundle.instruments:
        value = values.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise ReaDDSPError(problem.format(name=repr(name)), sidecar_path(bundle.path))
        checked[name] = float(value)
    return checked


def require_family(bundle: Bundle, family: str, purpose: str) -> None:
    """A one-line error naming the bundle unless it is of model `family` (`purpose`: what needs that family)."""
    if bundle.family != family:
        raise ReaDDSPError(f"{purpose} needs a {family} bundle; this is a {bundle.family} bundle", bundle.path)


#: Bundle families that are not instruments (listed and resolved by their own loaders).
NON_INSTRUMENT_FAMILIES = frozenset({"performance"})


def _is_instrument(path: Path) -> bool:
    """False for a readable bundle of a non-instrument family; unreadable files stay listed (their error shows)."""
    try:
        return read_bundle_config(path).get("model", "midi-ddsp") not in NON_INSTRUMENT_FAMILIES
    except ReaDDSPError:
        return True


def bundle_paths() -> list[tuple[Path, bool]]:
    """All instrument bundle files: (path, is_user_bundle), bundled ones first (performance models left out)."""
    found = [(p, False) for p in sorted(bundled_dir().glob("*.safetensors"))]
    if user_dir().is_dir():
        found += [(p, True) for p in sorted(user_dir().glob("*.safetensors"))]
    return [(p, is_user) for p, is_user in found if _is_instrument(p)]


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
