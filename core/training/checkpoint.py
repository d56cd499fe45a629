"""Checkpoints: model weights as safetensors, optimiser state via torch.save (read back with weights_only=True)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from readdsp.core.atomic import atomic_path, write_json


def save_checkpoint(
    run_dir: Path,
    step: int,
    models: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    keep: int = 2,
) -> None:
    """Write `ckpt-<step>.safetensors` + `optim-<step>.pt`, point `latest.json` at them, keep the newest `keep`."""
    run_dir.mkdir(parents=True, exist_ok=True)
    tensors = {
        f"{name}.{k}": v.detach().contiguous().cpu() for name, m in models.items() for k, v in m.state_dict().items()
    }
    with atomic_path(run_dir / f"ckpt-{step}.safetensors") as tmp:
        save_file(tensors, str(tmp))
    with atomic_path(run_dir / f"optim-{step}.pt") as tmp:
        torch.save({name: opt.state_dict() for name, opt in optimizers.items()}, tmp)
    write_json(run_dir / "latest.json", {"step": step})
    steps = sorted(int(p.stem.split("-")[1]) for p in run_dir.glob("ckpt-*.safetensors"))
    for old in steps[:-keep]:
        (run_dir / f"ckpt-{old}.safetensors").unlink(missing_ok=True)
        (run_dir / f"optim-{old}.pt").unlink(missing_ok=True)


def load_latest(
    run_dir: Path,
    models: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer] | None = None,
) -> int:
    """Restore the newest checkpoint in `run_dir` if any; returns the step to resume from (0 if none)."""
    latest = run_dir / "latest.json"
    if not latest.is_file():
        return 0
    step = int(json.loads(latest.read_text())["step"])
    tensors = load_file(str(run_dir / f"ckpt-{step}.safetensors"))
    for name, model in models.items():
        prefix = f"{name}."
        model.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
    optim_path = run_dir / f"optim-{step}.pt"
    if optimizers and optim_path.is_file():
        states = torch.load(optim_path, weights_only=True, map_location="cpu")
        for name, opt in optimizers.items():
            if name in states:
                opt.load_state_dict(states[name])
    return step
