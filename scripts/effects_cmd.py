"""`readdsp effects build|export-nam|train|apply|report`: paired effect datasets and effect models."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _backend(name: str) -> Any:
    if name == "reaper":
        from readdsp.reaper_ext.batch_convert import ReaperBatchBackend

        return ReaperBatchBackend()
    from readdsp.datasets.effects.pedalboard_backend import PedalboardBackend

    return PedalboardBackend()


def _build(args: argparse.Namespace) -> int:
    from readdsp.datasets.effects.builder import build_dataset

    out = build_dataset(
        args.spec, args.out, minutes=args.minutes, seed=args.seed, backend=_backend(args.backend),
        audio_folder=args.audio_folder, overwrite=args.overwrite, level_db=args.level,
    )  # fmt: skip
    print(out)
    return 0


def _reaper_build(spec: Path, out: Path, minutes: float) -> Path:
    from readdsp.datasets.effects.builder import build_dataset

    return build_dataset(spec, out, minutes=minutes, backend=_backend("reaper"), overwrite=True, progress=False)


def reaper_effect_dataset(bridge: Any, output_dir: str = "") -> dict:
    """The engine's effect_dataset job: the selected track's FX through REAPER's batch converter."""
    from readdsp.reaper_ext.effect_action import build_effect_dataset

    return build_effect_dataset(bridge, _reaper_build, output_dir)


def _export_nam(args: argparse.Namespace) -> int:
    from readdsp.datasets.effects.nam_export import export_nam

    print(json.dumps(export_nam(args.dataset, args.out), indent=2))
    return 0


def _train(args: argparse.Namespace) -> int:
    from readdsp.training.effects.train import train_model

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = train_model(
        args.dataset, args.model, args.out, max_seconds=args.max_seconds, fir_seconds=args.fir_seconds, log=log
    )
    if "candidates" in result:
        scores = ", ".join(f"{c['model']} {c['val_esr']:.3g}" if "val_esr" in c else f"{c['model']} skipped"
                           for c in result["candidates"])  # fmt: skip
        print(f"auto picked {result['model']} (val ESR {result['val_esr']:.3g}); tried: {scores}", file=sys.stderr)
    if "warning" in result:
        print(f"warning: {result['warning']}", file=sys.stderr)
    print(json.dumps(result, indent=2))
    return 0


def _apply(args: argparse.Namespace) -> int:
    from readdsp.core.effects.apply import apply_file

    print(apply_file(args.model, args.input, args.out))
    return 0


def _report(args: argparse.Namespace) -> int:
    from readdsp.training.effects.report import write_report

    args.out = args.out or str(Path(args.dataset) / f"report-{Path(args.model).stem}")
    print(json.dumps(write_report(args.model, args.dataset, args.out, seed=args.seed), indent=2))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `effects` and its subcommands."""
    from readdsp.training.effects import MODELS

    effects = subparsers.add_parser("effects", help="paired effect datasets and effect models")
    sub = effects.add_subparsers(dest="effects_command", metavar="ACTION")

    build = sub.add_parser("build", help="build a paired dataset from a chain spec")
    build.add_argument("spec", help="chain spec (JSON or YAML)")
    build.add_argument("-o", "--out", required=True, help="dataset folder to create")
    build.add_argument("--minutes", type=float, default=3.0, help="minutes of program material (default 3)")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--backend", choices=("builtin", "reaper"), default="builtin")
    build.add_argument("--level", type=float, default=0.0, help="capture level: input gain in dB (default 0)")
    build.add_argument("--audio-folder", help="add real audio (WAV/FLAC/MP3) from this folder")
    build.add_argument("--overwrite", action="store_true", help="replace an existing dataset folder")
    build.set_defaults(func=_build)

    export = sub.add_parser("export-nam", help="write NAM input.wav/output.wav + data config")
    export.add_argument("dataset")
    export.add_argument("-o", "--out", required=True)
    export.set_defaults(func=_export_nam)

    train = sub.add_parser("train", help="train an effect model on a dataset (default: choose by measurement)")
    train.add_argument("dataset")
    train.add_argument("--model", choices=MODELS, default="auto",
                       help="auto (default) tries every family of ours and keeps the best on validation")  # fmt: skip
    train.add_argument("-o", "--out", required=True, help="MODEL.safetensors (ours) or MODEL.nam (nam)")
    train.add_argument("--max-seconds", type=float, default=300.0, help="training time cap (default 300)")
    train.add_argument("--fir-seconds", type=float, help="FIR length (default: the dataset's tail)")
    train.set_defaults(func=_train)

    apply = sub.add_parser("apply", help="run a model on a WAV file")
    apply.add_argument("model")
    apply.add_argument("input")
    apply.add_argument("-o", "--out", required=True)
    apply.set_defaults(func=_apply)

    report = sub.add_parser("report", help="ESR, pictures and an ABX kit for a model on a dataset")
    report.add_argument("model")
    report.add_argument("dataset")
    report.add_argument("-o", "--out", help="report folder (default: DATASET/report-MODELNAME)")
    report.add_argument("--seed", type=int, default=0)
    report.set_defaults(func=_report)
    effects.set_defaults(func=lambda _args: (effects.print_help(), 2)[1])
