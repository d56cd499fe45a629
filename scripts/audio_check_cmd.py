"""`readdsp audio-check BUNDLE`: issue 12's audio-domain figures for a bundle alone (no dataset or run needed)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_audio_arguments(parser: argparse.ArgumentParser, checks_flag: bool) -> None:
    """The audio-domain options `audio-check` and `evaluate` share."""
    if checks_flag:
        parser.add_argument(
            "--audio-checks", action="store_true", help="pitch, timing, release, levels and imitation on test phrases"
        )
    parser.add_argument(
        "--real-recordings",
        type=Path,
        metavar="DIR",
        help="shared/data: distances to real recordings (PHENICX, "
        "Philharmonia, TinySOL) for ours, FluidR3_GM and MuseScore_General",
    )
    parser.add_argument(
        "--real-phrases",
        type=Path,
        metavar="DIR",
        help="real monophonic phrase recordings, one sub-folder per instrument (flute/*.wav): each transcribed and "
        "re-rendered by ours, FluidR3_GM and MuseScore_General, and compared with the recording",
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="measure each instrument's level gain and write it to the bundle's "
        "sidecar (NAME.json); also the dynamics and volume-saturation figures",
    )


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("audio-check", help="audio-domain quality of a bundle, beside FluidSynth (issue 12)")
    parser.add_argument("bundle", type=Path, help="the bundle (.safetensors)")
    add_audio_arguments(parser, checks_flag=False)
    parser.add_argument("--no-phrases", action="store_true", help="skip the test-phrase checks")
    parser.add_argument(
        "--vibrato-from",
        type=Path,
        metavar="DATASET",
        help="a dataset of real players' notes (dataset from-notes): fit each of its instruments' factor on the "
        "generated vibrato to their within-note pitch movement, and write it to the sidecar (NAME.json)",
    )
    parser.add_argument(
        "--real-excerpts",
        type=Path,
        metavar="DIR",
        help="shared/data/real-excerpts: the mel distance of ours and of FluidSynth to each clip (as `evaluate`)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="the renders' random seed (f0 sampling and pitch wander; default 0): another seed shows which figures "
        "hold beyond one draw",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="metrics JSON")
    parser.add_argument(
        "--card", type=Path, help="also write the model card, with the metrics already in the bundle's sidecar"
    )
    parser.add_argument("--embed", action="store_true", help="also merge the figures into the sidecar's metrics")
    parser.add_argument(
        "--how-trained", action="append", default=[], metavar="TEXT", help="training command for the card"
    )
    parser.set_defaults(func=run)


def command_line(args: argparse.Namespace) -> str:
    """The audio options as they were given, for the card's Reproduce section."""
    text = f" --real-recordings {args.real_recordings}" if args.real_recordings else ""
    text += f" --real-phrases {args.real_phrases}" if args.real_phrases else ""
    text += f" --vibrato-from {args.vibrato_from}" if getattr(args, "vibrato_from", None) else ""
    text += f" --real-excerpts {args.real_excerpts}" if getattr(args, "real_excerpts", None) else ""
    text += f" --seed {args.seed}" if getattr(args, "seed", 0) else ""
    return text + (" --calibrate" if args.calibrate else "")


def run(args: argparse.Namespace) -> int:
    import torch

    from readdsp.core.atomic import write_json
    from readdsp.core.bundle import load_bundle, write_sidecar
    from readdsp.core.errors import ReaDDSPError
    from readdsp.training.audio_report import measure_audio
    from readdsp.training.model_card import write_model_card

    if args.real_excerpts and not args.real_excerpts.is_dir():
        raise ReaDDSPError("not a folder (shared/data/real-excerpts expected)", args.real_excerpts)
    torch.manual_seed(0)
    bundle = load_bundle(args.bundle)
    audio = measure_audio(
        bundle,
        not args.no_phrases,
        args.calibrate,
        args.real_recordings,
        vibrato_from=args.vibrato_from,
        real_phrases_dir=args.real_phrases,
        seed=args.seed,
    )
    if args.real_excerpts:
        from readdsp.core.render import Renderer
        from readdsp.training.real_excerpts import compare_with_fluidsynth

        audio["real_excerpts"] = compare_with_fluidsynth(Renderer.load(args.bundle), args.real_excerpts, seed=args.seed)
    write_json(args.output, audio)
    metrics = {**bundle.sidecar.get("metrics", {}), **audio}
    if args.embed:
        write_sidecar(args.bundle, {"metrics": metrics})
    if args.card:
        commands = {f"training {i + 1}": text for i, text in enumerate(args.how_trained)}
        commands["audio"] = (
            f"readdsp audio-check {args.bundle}{command_line(args)}"
            + (" --no-phrases" if args.no_phrases else "")
            + f" -o {args.output}"
        )
        write_model_card(args.card, bundle.config, metrics, commands)
    print(json.dumps({k: _headline(k, v) for k, v in audio.items()}))
    return 0


def _headline(key: str, value: dict) -> object:
    if key == "calibration":
        return value["gains_db"]
    return value.get("overall", value)
