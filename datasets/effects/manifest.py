"""The dataset manifest (manifest.json): pairs, splits, the exact chain, per-file sha256, measured latency."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from readdsp.core.errors import ReaDDSPError
from readdsp.core.hashing import sha256_file

MANIFEST_NAME = "manifest.json"
FORMAT = "readdsp-effects-dataset"
SPLITS = ("train", "val", "test")


def read_manifest(dataset_dir: str | Path) -> dict[str, Any]:
    """Load and sanity-check a dataset's manifest."""
    path = Path(dataset_dir) / MANIFEST_NAME
    if not path.is_file():
        raise ReaDDSPError("not an effects dataset (no manifest.json)", dataset_dir)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ReaDDSPError(f"manifest is not valid JSON ({err.msg})", path) from err
    if manifest.get("format") != FORMAT:
        raise ReaDDSPError(f"manifest format is not {FORMAT!r}", path)
    return manifest


def verify_dataset(dataset_dir: str | Path) -> None:
    """Raise if any file listed in the manifest is missing or its sha256 differs."""
    dataset_dir = Path(dataset_dir)
    for name, digest in read_manifest(dataset_dir)["sha256"].items():
        path = dataset_dir / name
        if not path.is_file():
            raise ReaDDSPError("file listed in the manifest is missing", path)
        if sha256_file(path) != digest:
            raise ReaDDSPError("file does not match its sha256 in the manifest", path)


def load_split(dataset_dir: str | Path, split: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(input, target, sample_rate) of one split, as mono float32."""
    dataset_dir = Path(dataset_dir)
    manifest = read_manifest(dataset_dir)
    if split not in manifest["splits"]:
        raise ReaDDSPError(f"dataset has no {split!r} split", dataset_dir)
    entry = manifest["splits"][split]
    x, sr_x = sf.read(str(dataset_dir / entry["input"]), dtype="float32")
    y, sr_y = sf.read(str(dataset_dir / entry["target"]), dtype="float32")
    if sr_x != sr_y or len(x) != len(y):
        raise ReaDDSPError(f"{split} input and target differ in rate or length", dataset_dir)
    return x, y, int(sr_x)


def manifest_dict(**fields: Any) -> dict[str, Any]:
    """A manifest with the format tag first."""
    return {"format": FORMAT, "version": 1, **fields}
