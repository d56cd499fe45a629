"""`readdsp train STAGE DATASET --run-dir RUN`: train one module, the whole pipeline, or export a bundle."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from readdsp.core.errors import ReaDDSPError

STAGE_DEFAULT_STEPS = {"ddsp-inference": 3000, "expression-generator": 3000, "synthesis-generator": 6000}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("train", help="train MIDI-DDSP modules on a cached dataset (resumable)")
    parser.add_argument(
        "stage",
        choices=[
            "ddsp-inference",
            "annotate",
            "expression-generator",
            "synthesis-generator",
            "pipeline",
            "export",
            "style-ddsp",
            "adapt",
            "bands",
        ],
        help="one module, 'annotate' (DDSP Inference -> expression targets), the whole 'pipeline', 'export', "
        "'adapt' (a bundle's instruments fitted to recordings of real players, after 'annotate'), or 'bands' (each "
        "instrument's brightness band from the run's annotations, each end held past its pitches where that sounds "
        "closer to the source soundfont, into the -o bundle's sidecar; export does it too)",
    )
    parser.add_argument("dataset", type=Path, help="a dataset folder made by `readdsp dataset ...`")
    parser.add_argument("--run-dir", type=Path, required=True, help="checkpoints, metrics and annotations go here")
    parser.add_argument("--steps", type=int, help="total steps for the stage (resuming counts what is done)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument(
        "--time-budget", type=float, help="minutes for this run; stops with a checkpoint, rerun to resume"
    )
    parser.add_argument("--checkpoint-every", type=int, default=250)
    parser.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads; 1 is much faster than 2 when other processes share the cores",
    )
    parser.add_argument(
        "--expression-scale",
        type=Path,
        help="annotate: take the expression scale from this JSON (a run's annotations/expression_scale.json) instead"
        " of fitting it, so the controls keep the meaning a trained Synthesis Generator learned",
    )
    parser.add_argument(
        "--seed", type=int, help="the stage's random seed (weights' initialisation, batches; default 0)"
    )
    parser.add_argument("--bundle", help="adapt: the bundle (name or path) whose instruments are adapted")
    parser.add_argument("-o", "--output", type=Path, help="bundle path (pipeline, export, adapt and bands)")
    parser.add_argument("--name", default="midi_ddsp", help="bundle name (pipeline and export)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from readdsp.datasets.cache import open_dataset
    from readdsp.training.distributed import setup_distributed, teardown
    from readdsp.training.loop import LoopConfig
    from readdsp.training.pipeline import STAGES, RunLayout, export_bundle, run_stage

    open_dataset(args.dataset)  # a clear error now rather than deep in a stage
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.stage == "style-ddsp":
        return _run_style_ddsp(args)
    if args.stage == "adapt":
        return _run_adapt(args)
    if args.stage == "bands":
        return _run_bands(args)
    ctx = setup_distributed()
    run = RunLayout(args.run_dir)
    budget = args.time_budget * 60 if args.time_budget else None
    try:
        stages = STAGES if args.stage == "pipeline" else () if args.stage == "export" else (args.stage,)
        summary = {}
        for stage in stages:
            loop = LoopConfig(
                steps=args.steps or STAGE_DEFAULT_STEPS.get(stage, 0),
                checkpoint_every=args.checkpoint_every,
                time_budget_s=budget,
            )
            summary[stage] = run_stage(
                stage, args.dataset, run, loop, ctx, args.batch_size, args.expression_scale, args.seed
            )
        if args.stage in ("pipeline", "export") and ctx.is_main:
            if args.output is None:
                raise ReaDDSPError(f"`readdsp train {args.stage}` needs -o BUNDLE.safetensors")
            export_bundle(args.dataset, run, args.output, args.name)
            summary["bundle"] = str(args.output)
        if ctx.is_main:
            print(json.dumps(summary, indent=1))
    finally:
        teardown(ctx)
    return 0


def _run_style_ddsp(args: argparse.Namespace) -> int:
    """The style-DDSP family: one stage, then the bundle (-o) from its newest checkpoint."""
    from readdsp.training.distributed import setup_distributed, teardown
    from readdsp.training.loop import LoopConfig
    from readdsp.training.pipeline import train_overrides
    from readdsp.training.style_ddsp import StyleTrainConfig, export_style_bundle, train_style_ddsp

    ctx = setup_distributed()
    budget = args.time_budget * 60 if args.time_budget else None
    loop = LoopConfig(steps=args.steps or 3000, checkpoint_every=args.checkpoint_every, time_budget_s=budget)
    train = StyleTrainConfig(**train_overrides(args.batch_size, args.seed))
    try:
        metrics = train_style_ddsp(args.dataset, args.run_dir, loop, train, ctx)
        if args.output is not None and ctx.is_main:
            metrics["bundle"] = str(export_style_bundle(args.run_dir, args.output))
        if ctx.is_main:
            print(json.dumps({k: v for k, v in metrics.items() if k != "config"}, indent=1))
    finally:
        teardown(ctx)
    return 0


def _run_bands(args: argparse.Namespace) -> int:
    """Fit each instrument's brightness band from the run's annotations into an existing bundle's sidecar."""
    from readdsp.core.bundle import load_bundle
    from readdsp.training.band_fit import write_brightness_bands
    from readdsp.training.pipeline import RunLayout

    if args.output is None:
        raise ReaDDSPError("`readdsp train bands` needs -o BUNDLE.safetensors (the bundle whose sidecar gets them)")
    bundle = load_bundle(args.output)
    bands = write_brightness_bands(bundle, args.dataset, RunLayout(args.run_dir).annotations)
    if not bands:
        raise ReaDDSPError(
            f"no band fits: the dataset's training notes of {', '.join(bundle.instruments)} are too few at every pitch",
            args.dataset,
        )
    print(json.dumps({"bundle": str(args.output), "brightness_band": sorted(bands)}, indent=1))
    return 0


def _run_adapt(args: argparse.Namespace) -> int:
    """Adapt a bundle's instruments to the dataset's recordings, write the adapted bundle (-o), and measure both
    bundles on the dataset's held-out recordings."""
    from readdsp.core.bundle import load_bundle, resolve_bundle
    from readdsp.core.render import Renderer
    from readdsp.training.adapt import (
        STAGE,
        AdaptTrainConfig,
        adapt_bundle,
        annotations_on_bundle_scale,
        export_adapted,
    )
    from readdsp.training.distributed import DistContext
    from readdsp.training.loop import LoopConfig
    from readdsp.training.pipeline import RunLayout, finish_stage, train_overrides
    from readdsp.training.real_recordings import compare_recordings, dataset_recordings

    if args.bundle is None or args.output is None:
        raise ReaDDSPError("`readdsp train adapt` needs --bundle SOURCE.safetensors and -o ADAPTED.safetensors")
    run = RunLayout(args.run_dir)
    source_path = resolve_bundle(args.bundle)
    source = load_bundle(source_path)
    annotations = annotations_on_bundle_scale(source, args.dataset, run.root)
    budget = args.time_budget * 60 if args.time_budget else None
    loop = LoopConfig(steps=args.steps or 400, checkpoint_every=args.checkpoint_every, time_budget_s=budget)
    train = AdaptTrainConfig(**train_overrides(args.batch_size, args.seed))
    model, result = adapt_bundle(source, args.dataset, annotations, run.stage(STAGE), loop, train, DistContext())
    adapted = {"source": source.config.get("name"), "dataset": str(args.dataset.resolve()), "steps": result.end_step}
    path = export_adapted(model, args.output, adapted)
    recordings = dataset_recordings(args.dataset)
    held_out = {}
    if recordings:  # the dataset's test split: the players' own notes that training never saw
        for label, bundle_path in (("source", source_path), ("adapted", path)):
            held_out[label] = compare_recordings(Renderer.load(bundle_path), recordings)
    metrics = finish_stage(run.stage(STAGE), result, {"seed": train.seed, "held_out_test": held_out})
    print(json.dumps({"bundle": str(path), **metrics}, indent=1))
    return 0
