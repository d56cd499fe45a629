"""`readdsp panel SONG.mid`: the expression panel, standalone (or `--screenshot OUT.png` offscreen), or
`readdsp panel --reaper`: on the MIDI item selected in REAPER, through the engine."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    panel = sub.add_parser("panel", help="edit every note's expression in a window and render it")
    panel.add_argument(
        "midi", type=Path, nargs="?", help="input .mid file (never modified; edits go to a sidecar beside it)"
    )
    panel.add_argument(
        "--reaper", action="store_true", help="open the MIDI item selected in REAPER (through `readdsp engine`)"
    )
    panel.add_argument("--engine-port", type=int, default=9737, help="the engine's OSC port (with --reaper)")
    panel.add_argument("--bundle", help="instrument bundle name or .safetensors path (default: bundled model)")
    panel.add_argument("-o", "--output", type=Path, help="WAV that Render writes (default: SONG.readdsp.wav)")
    panel.add_argument(
        "--expression", type=Path, help="start from this expression file (e.g. from render --save-expression)"
    )
    panel.add_argument("--stems", type=Path, help="also write one WAV per part into this folder on Render")
    panel.add_argument("--screenshot", type=Path, metavar="OUT.png", help="open offscreen, render, save a PNG, exit")
    panel.set_defaults(func=run_panel)


def run_panel(args: argparse.Namespace) -> int:
    from readdsp.core.errors import ReaDDSPError
    from readdsp.core.output_path import check_output_file

    if args.reaper:
        from readdsp.ui.app import run_connected

        return run_connected(args.engine_port, args.bundle)
    if args.midi is None:
        raise ReaDDSPError("give a MIDI file, or --reaper to edit the item selected in REAPER")
    if args.output:
        check_output_file(args.output, (".wav",))
    if args.screenshot:
        from readdsp.ui.app import screenshot

        check_output_file(args.screenshot, (".png",))
        print(screenshot(args.midi, args.bundle, args.screenshot, args.output, args.expression))
        return 0
    from readdsp.ui.app import run_panel as run

    return run(args.midi, args.bundle, args.output, args.stems, args.expression)
