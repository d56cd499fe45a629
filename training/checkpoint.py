"""Checkpoints: model weights and optimiser state, both as safetensors (no pickles are ever loaded)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from readdsp.core.atomic import atomic_path, write_json

log = logging.getLogger(__name__)


def save_checkpoint(
    run_dir: Path,
    step: int,
    models: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    keep: int = 2,
) -> None:
    """Write `ckpt-<step>.safetensors` + `optim-<step>.safetensors`, point `latest.json` at them, keep the newest
    `keep`. Only the `ckpt-` file belongs in git (see docs/training.md): a resumed run without the optimiser file
    restarts its optimiser."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(run_dir / f"ckpt-{step}.safetensors") as tmp:
        save_file(_weights(models), str(tmp))
    tensors, groups = _optimizer_tensors(optimizers)
    with atomic_path(run_dir / f"optim-{step}.safetensors") as tmp:
        save_file(tensors, str(tmp), metadata={"param_groups": json.dumps(groups)})
    write_json(run_dir / "latest.json", {"step": step})
    steps = sorted(int(p.stem.split("-")[1]) for p in run_dir.glob("ckpt-*.safetensors"))
    for old in steps[:-keep]:
        (run_dir / f"ckpt-{old}.safetensors").unlink(missing_ok=True)
        (run_dir / f"optim-{old}.safetensors").unlink(missing_ok=True)


def _optimizer_tensors(optimizers: dict[str, torch.optim.Optimizer]) -> tuple[dict[str, torch.Tensor], dict]:
    """Optimiser states flattened to `name.param_index.key` tensors, plus their JSON-able param groups."""
    tensors: dict[str, torch.Tensor] = {}
    groups: dict[str, list] = {}
    for name, opt in optimizers.items():
        state = opt.state_dict()
        groups[name] = state["param_groups"]
        for index, values in state["state"].items():
            for key, value in values.items():
                tensors[f"{name}.{index}.{key}"] = torch.as_tensor(value).detach().contiguous().cpu()
    return tensors, groups


def _load_optimizers(path: Path, optimizers: dict[str, torch.optim.Optimizer]) -> None:
    with safe_open(str(path), framework="pt") as f:
        groups = json.loads((f.metadata() or {})["param_groups"])
        tensors = {key: f.get_tensor(key) for key in f.keys()}
    for name, opt in optimizers.items():
        if name not in groups:
            continue
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in tensors.items():
            owner, index, field = key.split(".", 2)
            if owner == name:
                state.setdefault(int(index), {})[field] = value
        opt.load_state_dict({"state": state, "param_groups": groups[name]})


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
    optim_path = run_dir / f"optim-{step}.safetensors"
    if optimizers and optim_path.is_file():
        _load_optimizers(optim_path, optimizers)
    elif optimizers:
        log.info("%s: no optimiser state for step %d; the optimiser starts afresh", run_dir, step)
    return step
