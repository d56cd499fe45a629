"""Train a `.nam` model with neural-amp-modeler's own trainer (`nam.train.full.main`) on our NAM export."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from readdsp.core.atomic import write_bytes
from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.effects.manifest import read_manifest
from readdsp.datasets.effects.nam_export import export_nam

log = logging.getLogger(__name__)


def _feather_layers() -> list[dict[str, Any]]:
    """NAM's legacy "feather" WaveNet (8/4 channels, kernel 3, Tanh) in the 0.13 layer-array format."""
    first = list(2**i for i in range(7))
    second = [128, 256, 512] + [2**i for i in range(10)]
    return [
        {"input_size": 1, "condition_size": 1, "channels": 8, "kernel_size": 3, "dilations": first,
         "activation": "Tanh", "head": {"out_channels": 4, "kernel_size": 1, "bias": False}},
        {"input_size": 8, "condition_size": 1, "channels": 4, "kernel_size": 3, "dilations": second,
         "activation": "Tanh", "head": {"out_channels": 1, "kernel_size": 1, "bias": True}},
    ]  # fmt: skip


def nam_model_config(architecture: str) -> dict[str, Any]:
    """Model config for 'wavenet' (feather) or 'lstm' (1 x 16)."""
    loss = {"val_loss": "esr", "mask_first": 4096, "pre_emph_weight": 1.0, "pre_emph_coef": 0.85}
    if architecture == "lstm":
        net = {
            "name": "LSTM",
            "config": {"hidden_size": 16, "num_layers": 1, "train_burn_in": 4096, "train_truncate": 512},
        }
        lr = 0.01
    elif architecture == "wavenet":
        net = {"name": "WaveNet", "config": {"layers_configs": _feather_layers(), "head_scale": 0.02}}
        lr = 0.004
    else:
        raise ReaDDSPError(f"unknown NAM architecture {architecture!r} (expected wavenet or lstm)")
    return {
        "net": net,
        "loss": loss,
        "optimizer": {"lr": lr},
        "lr_scheduler": {"class": "ExponentialLR", "kwargs": {"gamma": 0.993}},
    }


def nam_learning_config(max_seconds: float, max_epochs: int, max_steps: int | None) -> dict[str, Any]:
    """CPU learning config with a wall-clock cap (Lightning's `max_time`)."""
    secs = int(max(1, max_seconds))
    trainer: dict[str, Any] = {
        "accelerator": "cpu",
        "devices": 1,
        "max_epochs": max_epochs,
        "max_time": f"00:{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}",
        "num_sanity_val_steps": 0,
        "enable_progress_bar": False,
        "logger": False,
    }
    if max_steps is not None:
        trainer["max_steps"] = max_steps
    return {
        "train_dataloader": {
            "batch_size": 16,
            "shuffle": True,
            "pin_memory": False,
            "drop_last": True,
            "num_workers": 0,
        },
        "val_dataloader": {},
        "trainer": trainer,
        "trainer_fit_kwargs": {},
    }


def nam_user_metadata(spec_nam: dict[str, Any], where: str | Path) -> dict[str, Any]:
    """The chain spec's `nam` field, checked against NAM's UserMetadata (name, gear_type, tone_type...)."""
    try:
        from nam.models.metadata import UserMetadata
        from pydantic import ValidationError
    except ImportError as err:
        raise ReaDDSPError("NAM metadata needs neural-amp-modeler: pip install 'readdsp[effects]'") from err

    unknown = sorted(set(spec_nam) - set(UserMetadata.model_fields))
    if unknown:
        allowed = ", ".join(UserMetadata.model_fields)
        raise ReaDDSPError(f"chain spec 'nam' has unknown field(s) {', '.join(unknown)} (allowed: {allowed})", where)
    try:
        checked = UserMetadata(**spec_nam)
    except ValidationError as err:
        problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise ReaDDSPError(f"chain spec 'nam' metadata is not valid NAM metadata ({problem})", where) from err
    return {k: getattr(v, "value", v) for k, v in checked.model_dump().items() if v is not None}


def with_user_metadata(nam_text: str, user: dict[str, Any]) -> bytes:
    """The .nam JSON with `user` fields merged into its `metadata` (NAM's own fields kept)."""
    data = json.loads(nam_text)
    data.setdefault("metadata", {}).update(user)
    return json.dumps(data).encode("utf-8")


def train_nam(
    dataset_dir: str | Path,
    out_path: str | Path,
    architecture: str = "wavenet",
    max_seconds: float = 270.0,
    max_epochs: int = 100,
    max_steps: int | None = None,
) -> Path:
    """Export the dataset for NAM, train, and write the `.nam` file atomically to `out_path`.

    The chain spec's `nam` field (name, modeled_by, gear_type, gear_make, gear_model, tone_type, ...) goes
    into the file's metadata, so NAM plugins show it.
    """
    try:
        from nam.train.full import main as nam_full_main
    except ImportError as err:
        raise ReaDDSPError("--model nam needs neural-amp-modeler: pip install 'readdsp[effects]'") from err
    spec_nam = (read_manifest(dataset_dir).get("chain_spec") or {}).get("nam") or {}
    user = nam_user_metadata(spec_nam, Path(dataset_dir) / "manifest.json")
    work = Path(tempfile.mkdtemp(prefix="readdsp-nam-"))
    try:
        data_config = export_nam(dataset_dir, work / "data")
        run_dir = work / "run"
        run_dir.mkdir()
        nam_full_main(
            data_config,
            nam_model_config(architecture),
            nam_learning_config(max_seconds, max_epochs, max_steps),
            run_dir,
            no_show=True,
            make_plots=False,
        )
        exported = run_dir / "model.nam"
        if not exported.is_file():
            raise ReaDDSPError("NAM's trainer finished without writing model.nam", run_dir)
        return write_bytes(out_path, with_user_metadata(exported.read_text(encoding="utf-8"), user))
    finally:
        shutil.rmtree(work, ignore_errors=True)
