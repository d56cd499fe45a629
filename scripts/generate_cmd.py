"""`readdsp generate --bars N -o OUT.mid`: sample a new humanized phrase, or continue a prime."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("generate", help="sample a new expressive phrase (or continue --prime)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output .mid file")
    parser.add_argument("--prime", type=Path, help="continue this MIDI file's top line")
    parser.add_argument("--bars", type=int, required=True, help="bars to generate")
    parser.add_argument("--time-signature", default="4/4", help="metre of the new bars (default 4/4)")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output)")
    parser.set_defaults(func=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    from readdsp.core.generate import generate_file, parse_time_signature
    from readdsp.core.output_path import check_output_file

    check_output_file(args.output, (".mid", ".midi"))
    path = generate_file(
        args.output,
        args.prime,
        bars=args.bars,
        time_signature=parse_time_signature(args.time_signature),
        temperature=args.temperature,
        seed=args.seed,
    )
    print(f"wrote {path}")
    return 0
