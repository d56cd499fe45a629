"""`readdsp evaluate`: held-out Table 1 / Table 2 metrics, mel distance and audio-domain figures; optional card."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from readdsp.scripts.audio_check_cmd import add_audio_arguments, command_line


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("evaluate", help="held-out metrics of a MIDI-DDSP bundle (paper Tables 1 and 2)")
    parser.add_argument("bundle", type=Path, help="the bundle to evaluate (.safetensors)")
    parser.add_argument("dataset", type=Path, help="the dataset it was trained on")
    parser.add_argument(
        "--run-dir", type=Path, required=True, help="the training run (for DDSP Inference, annotations)"
    )
    parser.add_argument("--split", default="test", choices=["validation", "test"])
    parser.add_argument("--max-windows", type=int, default=24, help="8-s held-out windows used for Table 2")
    parser.add_argument("--real-excerpts", type=Path, help="shared/data/real-excerpts, for the mel distance")
    add_audio_arguments(parser, checks_flag=True)
    parser.add_argument("-o", "--output", type=Path, required=True, help="metrics JSON")
    parser.add_argument("--card", type=Path, help="also write the model card (Markdown) here")
    parser.add_argument(
        "--embed", action="store_true", help="also store the metrics in the bundle's sidecar (NAME.json beside it)"
    )
    parser.add_argument(
        "--how-trained", action="append", default=[], metavar="TEXT", help="training command for the card"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from readdsp.core.atomic import write_json
    from readdsp.core.bundle import load_bundle, write_sidecar
    from readdsp.core.models.midi_ddsp import MidiDDSP
    from readdsp.core.render import Renderer
    from readdsp.datasets.cache import open_dataset
    from readdsp.training import evaluate as ev
    from readdsp.training.model_card import write_model_card
    from readdsp.training.pipeline import RunLayout, load_ddsp_inference

    torch.manual_seed(0)
    bundle = load_bundle(args.bundle)
    model = MidiDDSP.from_bundle(bundle)
    run_dir = RunLayout(args.run_dir)
    dataset = open_dataset(args.dataset)
    windows = ev.held_out_windows(args.dataset, run_dir.annotations, args.split)
    step = max(len(windows) // args.max_windows, 1)
    sampled = windows[::step][: args.max_windows]
    metrics = {
        "split": args.split,
        "windows": len(sampled),
        "table1": {
            "ddsp_inference_spectral_loss": ev.ddsp_inference_spectral_loss(
                load_ddsp_inference(run_dir, dataset.sample_rate), windows
            ),
            "synthesis_generator": ev.synthesis_generator_rmse(model, windows),
            "expression_generator": ev.expression_generator_rmse(model, args.dataset, run_dir.annotations, args.split),
        },
        "table2": ev.control_round_trip(model, sampled),
    }
    if args.real_excerpts and args.real_excerpts.is_dir():
        from readdsp.training.real_excerpts import compare_with_fluidsynth

        metrics["real_excerpts"] = compare_with_fluidsynth(Renderer(model, args.bundle), args.real_excerpts)
    if args.audio_checks or args.calibrate or args.real_recordings or args.real_phrases:
        from readdsp.training.audio_report import measure_audio

        metrics |= measure_audio(
            bundle, args.audio_checks, args.calibrate, args.real_recordings, real_phrases_dir=args.real_phrases
        )
    if args.audio_checks:
        from readdsp.training.audio_checks import imitation_on_dataset

        metrics["imitation"] = imitation_on_dataset(Renderer.load(args.bundle), args.dataset, args.split)
    write_json(args.output, metrics)
    # merged, as `readdsp audio-check --embed` merges: embedding one never drops the other's figures
    embedded = {**bundle.sidecar.get("metrics", {}), **metrics}
    if args.embed:
        write_sidecar(args.bundle, {"metrics": embedded})
    if args.card:
        commands = {f"training {i + 1}": text for i, text in enumerate(args.how_trained)}
        commands |= {
            "metrics": f"readdsp evaluate {args.bundle} {args.dataset} --run-dir {args.run_dir} --split {args.split} "
            f"--max-windows {args.max_windows} -o {args.output}"
            + (f" --real-excerpts {args.real_excerpts}" if args.real_excerpts else "")
            + (" --audio-checks" if args.audio_checks else "")
            + command_line(args),
        }
        write_model_card(args.card, bundle.config, embedded, commands)
    print(json.dumps(metrics["table1"] | {"table2": {k: v["pearson_r"] for k, v in metrics["table2"].items()}}))
    return 0
