"""The `readdsp` console script: discovers every `*_cmd` module in this package and runs the chosen subcommand."""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence
from typing import NoReturn

from readdsp import __version__
from readdsp.core.errors import ReaDDSPError


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser; each `readdsp.scripts.*_cmd` module adds its subcommands via `register`."""
    parser = argparse.ArgumentParser(prog="readdsp", description="Expressive neural instruments for REAPER and Python.")
    parser.add_argument("--version", action="version", version=f"readdsp {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    package = importlib.import_module("readdsp.scripts")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.endswith("_cmd"):
            importlib.import_module(f"readdsp.scripts.{info.name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns 0 on success, 2 on bad input (one line on stderr), 130 on Ctrl-C."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ReaDDSPError as err:
        print(f"readdsp: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("readdsp: interrupted", file=sys.stderr)
        return 130


def run() -> NoReturn:
    """The console script: `main`, then exit with its code. What is left is frozen first, so the interpreter's last
    garbage collection passes over it: it walked every object torch and numba had made, 0.4 s after each render."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
