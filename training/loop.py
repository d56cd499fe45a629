"""The shared training loop: tqdm progress, periodic checkpoints, resume, a time budget, and a metrics JSON."""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from readdsp.core.atomic import write_json
from readdsp.training.checkpoint import load_latest, save_best, save_checkpoint
from readdsp.training.distributed import DistContext, barrier


@dataclass
class LoopConfig:
    """How long and how often: steps, checkpoint interval, and an optional wall-clock budget per run."""

    steps: int
    checkpoint_every: int = 500
    log_every: int = 50
    time_budget_s: float | None = None  # stop early (and checkpoint) when spent; rerun to resume


@dataclass
class LoopResult:
    """What a run did."""

    start_step: int
    end_step: int
    wall_time_s: float
    history: list[dict] = field(default_factory=list)


def run_loop(
    name: str,
    run_dir: Path,
    models: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    step_fn: Callable[[int], dict[str, float]],
    config: LoopConfig,
    ctx: DistContext,
    validate: Callable[[], float] | None = None,
) -> LoopResult:
    """Resume from `run_dir`, call `step_fn(step)` until `config.steps`, checkpointing along the way.

    With `validate` (a held-out score, lower is better), every checkpoint is scored too and the best weights are kept
    in `best.safetensors`. Ctrl-C or SIGTERM (single process) finishes the current step, checkpoints and returns,
    like a spent time budget.
    """
    with _stop_on_signal(enabled=ctx.world_size == 1) as stop:
        return _run(name, run_dir, models, optimizers, step_fn, config, ctx, stop, validate)


def _run(
    name, run_dir, models, optimizers, step_fn, config: LoopConfig, ctx: DistContext, stop, validate
) -> LoopResult:
    start = load_latest(run_dir, models, optimizers)
    began = time.monotonic()
    history: list[dict] = []
    running: dict[str, float] = {}
    counts: dict[str, int] = {}
    step = start
    bar = tqdm(total=config.steps, initial=start, desc=name, disable=not ctx.is_main, dynamic_ncols=True)
    for model in models.values():
        model.train()
    while step < config.steps:
        losses = step_fn(step)
        step += 1
        for key, value in losses.items():
            running[key] = running.get(key, 0.0) + float(value)
            counts[key] = counts.get(key, 0) + 1
        bar.update(1)
        if step % config.log_every == 0 or step == config.steps:
            means = {k: v / counts[k] for k, v in running.items()}
            bar.set_postfix({k: f"{v:.3f}" for k, v in means.items()})
            history.append({"step": step, "elapsed_s": round(time.monotonic() - began, 1), **means})
            running, counts = {}, {}
        out_of_time = config.time_budget_s is not None and time.monotonic() - began > config.time_budget_s
        out_of_time = out_of_time or stop.is_set()
        if step % config.checkpoint_every == 0 or step == config.steps or out_of_time:
            if ctx.is_main:
                save_checkpoint(run_dir, step, models, optimizers)
                if validate is not None:
                    history.append({"step": step, "validation": _validation_score(validate, models)})
                    save_best(run_dir, step, history[-1]["validation"], models)
                _append_history(run_dir / "history.json", history)
                history = []
            barrier(ctx)
        if out_of_time:
            break
    bar.close()
    return LoopResult(start, step, time.monotonic() - began, history)


def _validation_score(validate: Callable[[], float], models: dict[str, torch.nn.Module]) -> float:
    for model in models.values():
        model.eval()
    try:
        return float(validate())
    finally:
        for model in models.values():
            model.train()


def decay_learning_rate(optimizer: torch.optim.Optimizer, base: float, step: int, rate: float = 0.98) -> None:
    """The reference schedule: the learning rate falls by `rate` every 1000 steps (smoothly)."""
    for group in optimizer.param_groups:
        group["lr"] = base * rate ** (step / 1000)


@contextlib.contextmanager
def _stop_on_signal(enabled: bool):
    """An Event set by SIGINT/SIGTERM while the block runs (the previous handlers come back after it)."""
    stop = threading.Event()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _append_history(path: Path, new: list[dict]) -> None:
    old = json.loads(path.read_text()) if path.is_file() else []
    write_json(path, old + new)


def total_wall_time(run_dir: Path, this_run_s: float) -> float:
    """Training wall time over all resumed runs (kept in `wall_time.json`)."""
    path = run_dir / "wall_time.json"
    before = json.loads(path.read_text())["seconds"] if path.is_file() else 0.0
    write_json(path, {"seconds": before + this_run_s})
    return before + this_run_s
