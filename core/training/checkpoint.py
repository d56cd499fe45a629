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
    with atomic_path(run_dir / f"ckpt-{step}.safetensors") as tmp:
        save_file(_weights(models), str(tmp))
    with atomic_path(run_dir / f"optim-{step}.pt") as tmp:
        torch.save({name: opt.state_dict() for name, opt in optimizers.items()}, tmp)
    write_json(run_dir / "latest.json", {"step": step})
    steps = sorted(int(p.stem.split("-")[1]) for p in run_dir.glob("ckpt-*.safetensors"))
    for old in steps[:-keep]:
        (run_dir / f"ckpt-{old}.safetensors").unlink(missing_ok=True)
        (run_dir / f"optim-{old}.pt").unlink(missing_ok=True)


def save_best(run_dir: Path, step: int, score: float, models: dict[str, torch.nn.Module]) -> bool:
    """Keep `best.safetensors` (weights only) when `score` (lower is better) beats `best.json`; True if it did."""
    record = run_dir / "best.json"
    if record.is_file() and json.loads(record.read_text())["score"] <= score:
        return False
    run_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(run_dir / "best.safetensors") as tmp:
        save_file(_weights(models), str(tmp))
    write_json(record, {"step": step, "score": score})
    return True


def load_best(run_dir: Path, models: dict[str, torch.nn.Module]) -> int:
    """Restore the best-on-validation weights if the run kept any, else the latest; returns their step."""
    record = run_dir / "best.json"
    if not record.is_file():
        return load_latest(run_dir, models)
    _load_weights(run_dir / "best.safetensors", models)
    return int(json.loads(record.read_text())["step"])


def _weights(models: dict[str, torch.nn.Module]) -> dict[str, torch.Tensor]:
    return {
        f"{name}.{k}": v.detach().contiguous().cpu() for name, m in models.items() for k, v in m.state_dict().items()
    }


def _load_weights(path: Path, models: dict[str, torch.nn.Module]) -> None:
    tensors = load_file(str(path))
    for name, model in models.items():
        prefix = f"{name}."
        model.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})


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
    _load_weights(run_dir / f"ckpt-{step}.safetensors", models)
    optim_path = run_dir / f"optim-{step}.pt"
    if optimizers and optim_path.is_file():
        states = torch.load(optim_path, weights_only=True, map_location="cpu")
        for name, opt in optimizers.items():
            if name in states:
                opt.load_state_dict(states[name])
    return step
