"""The whole MIDI-DDSP training pipeline as resumable stages, and the export of a bundle from a run folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from readdsp.core.atomic import write_json
from readdsp.core.bundle import load_bundle, save_bundle
from readdsp.core.errors import ReaDDSPError
from readdsp.core.features.expression import ExpressionScale
from readdsp.core.models.ddsp_inference import DDSPInference, DDSPInferenceConfig
from readdsp.datasets.cache import open_dataset
from readdsp.training.band_fit import write_brightness_bands
from readdsp.training.checkpoint import load_best, load_latest
from readdsp.training.ddsp_inference import (
    DDSPInferenceTrainConfig,
    annotate_dataset,
    read_expression_scale,
    train_ddsp_inference,
)
from readdsp.training.distributed import DistContext, barrier
from readdsp.training.expression_generator import (
    ExpressionGeneratorTrainConfig,
    train_expression_generator,
)
from readdsp.training.loop import LoopConfig, LoopResult, total_wall_time
from readdsp.training.synthesis_generator import SynthesisGeneratorTrainConfig, train_synthesis_generator

STAGES = ("ddsp-inference", "annotate", "expression-generator", "synthesis-generator")


@dataclass
class RunLayout:
    """Where each stage of a run keeps its files."""

    root: Path

    def stage(self, name: str) -> Path:
        return self.root / name

    @property
    def annotations(self) -> Path:
        return self.root / "annotations"


def finish_stage(stage_dir: Path, result: LoopResult, extra: dict | None = None) -> dict:
    """Record wall time over all resumed runs and write the stage's metrics JSON."""
    history = json.loads((stage_dir / "history.json").read_text()) if (stage_dir / "history.json").is_file() else []
    losses = [entry for entry in history if "validation" not in entry]
    metrics = {
        "steps": result.end_step,
        "wall_time_s": round(total_wall_time(stage_dir, result.wall_time_s), 1),
        "final_losses": {k: v for k, v in (losses[-1] if losses else {}).items() if k not in ("step", "elapsed_s")},
        **(extra or {}),
    }
    if (stage_dir / "best.json").is_file():
        metrics["best_validation"] = json.loads((stage_dir / "best.json").read_text())
    write_json(stage_dir / "metrics.json", metrics)
    return metrics


def load_ddsp_inference(run: RunLayout, sample_rate: int) -> DDSPInference:
    """DDSP Inference restored from the run's latest checkpoint."""
    model = DDSPInference(DDSPInferenceConfig(sample_rate=sample_rate))
    if load_latest(run.stage("ddsp-inference"), {"ddsp_inference": model}) == 0:
        raise FileNotFoundError(f"{run.stage('ddsp-inference')}: no DDSP Inference checkpoint; train it first")
    return model


def train_overrides(batch_size: int | None, seed: int | None) -> dict:
    """The command line's overrides of a stage's training config: only those given."""
    return {k: v for k, v in {"batch_size": batch_size, "seed": seed}.items() if v is not None}


def run_stage(
    name: str,
    dataset_dir: Path,
    run: RunLayout,
    loop: LoopConfig,
    ctx: DistContext,
    batch_size: int | None = None,
    expression_scale: Path | None = None,
    seed: int | None = None,
) -> dict:
    """Run (or resume) one stage and return its metrics; `annotate` takes its expression scale from the
    `expression_scale` JSON if given (`ExpressionScale.to_dict`, as a run's annotations/expression_scale.json).
    `batch_size` and `seed` override the stage's training config."""
    overrides = train_overrides(batch_size, seed)
    if name == "ddsp-inference":
        train = DDSPInferenceTrainConfig(**overrides)
        _, result = train_ddsp_inference(dataset_dir, run.stage(name), loop, train, ctx)
        return finish_stage(run.stage(name), result, {"seed": train.seed}) if ctx.is_main else {}
    if name == "annotate":
        if ctx.is_main:
            dataset = open_dataset(dataset_dir)
            scale = _given_scale(expression_scale) if expression_scale else None
            annotate_dataset(load_ddsp_inference(run, dataset.sample_rate), dataset_dir, run.annotations, scale=scale)
        barrier(ctx)
        return {"annotations": str(run.annotations)}
    if name == "expression-generator":
        train = ExpressionGeneratorTrainConfig(**overrides)
        _, result = train_expression_generator(dataset_dir, run.annotations, run.stage(name), loop, train, ctx)
        return finish_stage(run.stage(name), result, {"seed": train.seed}) if ctx.is_main else {}
    if name == "synthesis-generator":
        train = SynthesisGeneratorTrainConfig(**overrides)
        _, result = train_synthesis_generator(dataset_dir, run.annotations, run.stage(name), loop, train, ctx)
        return finish_stage(run.stage(name), result, {"seed": train.seed}) if ctx.is_main else {}
    raise ValueError(f"unknown stage {name!r}; expected one of {', '.join(STAGES)}")


def _given_scale(path: Path) -> ExpressionScale:
    """An expression scale from a JSON file (a run's annotations/expression_scale.json); one-line errors."""
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ReaDDSPError(f"cannot read the expression scale ({err})", path) from None
    if not isinstance(values, dict) or not values:
        raise ReaDDSPError("an expression scale is a JSON object with volume_db and attack_db ranges", path)
    try:
        return ExpressionScale.from_dict(values)
    except ReaDDSPError as err:
        raise ReaDDSPError(str(err), path) from None


def export_bundle(dataset_dir: Path, run: RunLayout, out: Path, name: str) -> Path:
    """Assemble the trained modules of a run into one instrument bundle."""
    from readdsp.core.models.expression_generator import ExpressionGenerator, ExpressionGeneratorConfig
    from readdsp.core.models.synthesis_generator import SynthesisGenerator, SynthesisGeneratorConfig

    dataset = open_dataset(dataset_dir)
    eg = ExpressionGenerator(ExpressionGeneratorConfig())
    sg = SynthesisGenerator(SynthesisGeneratorConfig())
    eg_step = load_best(run.stage("expression-generator"), {"expression_generator": eg})
    sg_step = load_latest(run.stage("synthesis-generator"), {"synthesis_generator": sg})
    training = {}
    for stage in ("ddsp-inference", "expression-generator", "synthesis-generator"):
        path = run.stage(stage) / "metrics.json"
        training[stage] = json.loads(path.read_text()) if path.is_file() else {}
    config = {
        "name": name,
        "model": "midi-ddsp",
        "sample_rate": dataset.sample_rate,
        "frame_rate": 250,
        "instruments": list(dataset.instruments),
        "synthesis_generator": sg.config.to_dict(),
        "expression_generator": eg.config.to_dict(),
        "expression_scale": read_expression_scale(run.annotations).to_dict(),
        "training": {"steps": {"expression_generator": eg_step, "synthesis_generator": sg_step}, **training},
        "data": dataset.manifest.get("settings", {}),
    }
    path = save_bundle(out, config, {"expression_generator": eg, "synthesis_generator": sg})
    write_brightness_bands(load_bundle(path), dataset_dir, run.annotations)
    return path
