"""`readdsp humanize IN.mid -o OUT.mid`: learned velocities and durations; `--listening-kit DIR` for a blind test."""

from __future__ import annotations

import argparse
from pathlib import Path

from readdsp.core.errors import ReaDDSPError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("humanize", help="give a flat MIDI file learned velocities and durations")
    parser.add_argument("midi", type=Path, help="input .mid file (never modified)")
    parser.add_argument("-o", "--output", type=Path, help="output .mid file")
    parser.add_argument("--amount", type=float, default=1.0, help="0 (unchanged) .. 1 (fully learned), default 1")
    parser.add_argument("--timing", action="store_true", help="move onsets by learned deviations too")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output)")
    parser.add_argument(
        "--listening-kit", type=Path, metavar="DIR", help="render flat / learned velocity / learned velocity+duration"
    )
    parser.set_defaults(func=run_humanize)


def run_humanize(args: argparse.Namespace) -> int:
    if not 0.0 <= args.amount <= 1.0:
        raise ReaDDSPError(f"--amount must lie in 0..1 (got {args.amount})")
    if args.listening_kit is None and args.output is None:
        raise ReaDDSPError("give -o OUT.mid (or --listening-kit DIR)")
    if args.output is not None:
        from readdsp.core.humanize import humanize_file
        from readdsp.core.output_path import check_output_file

        check_output_file(args.output, (".mid", ".midi"))
        humanize_file(args.midi, args.output, args.amount, args.timing, args.seed)
        print(f"wrote {args.output}")
    if args.listening_kit is not None:
        from readdsp.core.listening_kit import write_listening_kit
        from readdsp.core.midi_io import read_midi, require_notes

        performance = require_notes(read_midi(args.midi), args.midi)
        key = write_listening_kit(performance, args.listening_kit, seed=args.seed)
        print(f"wrote take_1..3.wav and {key.name} (keep it from the listeners) in {args.listening_kit}")
    return 0
