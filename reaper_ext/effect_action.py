"""The "Build effect dataset from track FX" job: track FX -> .RfxChain -> batch-converter dataset."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from readdsp.core.atomic import write_bytes, write_json
from readdsp.reaper_ext.bridge import ReaperBridge, fx_chain_from_track_chunk
from readdsp.reaper_ext.render_items import slug


def build_effect_dataset(bridge: ReaperBridge, output_dir: str = "", minutes: float = 3.0) -> dict:
    """Write the selected track's FX as an .RfxChain and build an effect dataset (REAPER backend)."""
    from readdsp.datasets.effects.builder import build_dataset

    name, chunk = bridge.selected_track_chunk()
    base = Path(output_dir) if output_dir else Path(platformdirs.user_data_dir("readdsp")) / "effect-datasets"
    stem = slug(name or "track-fx")
    fxchain = write_bytes(base / f"{stem}.RfxChain", fx_chain_from_track_chunk(chunk).encode("utf-8"))
    spec = write_json(
        base / f"{stem}.chain.json",
        {"name": stem, "sample_rate": 48000, "tail_seconds": 1.0, "reaper": {"fxchain": str(fxchain)}},
    )
    dataset = build_dataset(spec, base / stem, minutes=minutes, backend="reaper", overwrite=True, progress=False)
    return {"dataset": str(dataset), "fxchain": str(fxchain), "spec": str(spec)}
