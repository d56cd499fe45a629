"""The "Build effect dataset from track FX" job: the selected track's FX -> .RfxChain + chain spec -> a build.

The build itself is passed in (scripts/effects_cmd.py composes it with the dataset builder), so reaper_ext
does not import datasets.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import platformdirs

from readdsp.core.atomic import write_bytes, write_json
from readdsp.reaper_ext.bridge import ReaperBridge, fx_chain_from_track_chunk
from readdsp.reaper_ext.render_items import slug

#: build(spec_path, dataset_dir, minutes) -> the dataset folder it wrote.
DatasetBuild = Callable[[Path, Path, float], Path]


def build_effect_dataset(bridge: ReaperBridge, build: DatasetBuild, output_dir: str = "", minutes: float = 3.0) -> dict:
    """Write the selected track's FX as an .RfxChain and its chain spec, then run `build` on them."""
    name, chunk = bridge.selected_track_chunk()
    base = Path(output_dir) if output_dir else Path(platformdirs.user_data_dir("readdsp")) / "effect-datasets"
    stem = slug(name or "track-fx")
    fxchain = write_bytes(base / f"{stem}.RfxChain", fx_chain_from_track_chunk(chunk).encode("utf-8"))
    spec = write_json(
        base / f"{stem}.chain.json",
        {"name": stem, "sample_rate": 48000, "tail_seconds": 1.0, "reaper": {"fxchain": str(fxchain)}},
    )
    dataset = build(spec, base / stem, minutes)
    return {"dataset": str(dataset), "fxchain": str(fxchain), "spec": str(spec)}
