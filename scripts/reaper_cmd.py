"""CLI for the REAPER extension: `engine`, `reaper install|uninstall|reapack-index`, `render-project`."""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path

from readdsp.core.errors import ReaDDSPError


def _load_renderer(model: str | None):
    from readdsp.core.render import Renderer

    return Renderer.load(model) if model else Renderer.load()


def _bundle_of(instrument: str | None) -> str | None:
    """The bundle holding `instrument` (any installed bundle), or None to use the default."""
    from readdsp.core.instrument_index import bundle_for_instrument

    return str(bundle_for_instrument(instrument)) if instrument else None


def run_engine(args: argparse.Namespace) -> int:
    from readdsp.reaper_ext.bridge import ReaperBridge
    from readdsp.reaper_ext.engine import Engine, default_log_file, setup_file_logging
    from readdsp.scripts.effects_cmd import reaper_effect_dataset

    log_file = Path(args.log_file) if args.log_file else default_log_file()
    setup_file_logging(log_file)
    renderer = _load_renderer(args.model)
    try:
        engine = Engine(
            renderer,
            ReaperBridge(web_port=args.reapy_port),
            port=args.port,
            effect_dataset=reaper_effect_dataset,
        )
    except OSError as err:
        raise ReaDDSPError(f"cannot listen on 127.0.0.1:{args.port} ({err}); is an engine already running?") from None
    engine.start()
    print(f"readdsp engine listening on 127.0.0.1:{engine.port} (log: {log_file})", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: engine.shutdown())
    try:
        engine.wait()
    except KeyboardInterrupt:
        engine.shutdown()
    return 0


def run_install(args: argparse.Namespace) -> int:
    from readdsp.reaper_ext.install import install

    result = install(args.resource_path, configure_reapy=not args.no_reapy)
    print(f"installed {len(result['actions'])} ReaDDSP actions into REAPER; restart REAPER to see them")
    for warning in result["warnings"]:
        print(f"warning: {warning}")
    return 0


def run_uninstall(args: argparse.Namespace) -> int:
    from readdsp.reaper_ext.install import uninstall

    result = uninstall(args.resource_path)
    print(f"removed {result['removed_files']} files and {result['removed_lines']} configuration lines")
    return 0


def run_reapack_index(args: argparse.Namespace) -> int:
    from readdsp.core.atomic import write_bytes
    from readdsp.reaper_ext.install import HELPER, action_scripts
    from readdsp.reaper_ext.reapack import build_index

    scripts = [s for s in action_scripts() if s.name != HELPER]
    helper = next(s for s in action_scripts() if s.name == HELPER)
    write_bytes(args.output, build_index(scripts, helper, args.base_url).encode("utf-8"))
    print(f"wrote {args.output}")
    return 0


def run_render_project(args: argparse.Namespace) -> int:
    from readdsp.reaper_ext.offline_project import plan_project, render_project

    plan = plan_project(args.input, args.output, args.track or None, args.instrument)  # before the model loads
    renderer = _load_renderer(args.model or _bundle_of(args.instrument))
    result = render_project(args.input, args.output, renderer, args.track or None, args.instrument, plan)
    for message in result["messages"]:
        print(message)
    print(json.dumps({"output": result["output"], "wavs": result["wavs"], "muted": result["muted"]}, indent=2))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    engine = subparsers.add_parser("engine", help="run the ReaDDSP engine REAPER's actions talk to (OSC, 127.0.0.1)")
    engine.add_argument("--port", type=int, default=9737, help="OSC port on 127.0.0.1 (default 9737)")
    engine.add_argument("--bundle", dest="model", help="instrument bundle path or name (default: the bundled model)")
    engine.add_argument("--model", dest="model", help=argparse.SUPPRESS)  # the old spelling
    engine.add_argument("--reapy-port", type=int, help="REAPER web-interface port reapy uses (default 2307)")
    engine.add_argument("--log-file", help="log file (default: the user log folder)")
    engine.set_defaults(func=run_engine)

    reaper = subparsers.add_parser("reaper", help="install the ReaDDSP actions into REAPER")
    sub = reaper.add_subparsers(dest="reaper_command", metavar="ACTION", required=True)
    inst = sub.add_parser("install", help="configure reapy, copy the action scripts, register the actions")
    inst.add_argument("--resource-path", help="REAPER resource folder (default: the platform's)")
    inst.add_argument("--no-reapy", action="store_true", help="do not let reapy edit REAPER's configuration")
    inst.set_defaults(func=run_install)
    uninst = sub.add_parser("uninstall", help="remove exactly what install added")
    uninst.add_argument("--resource-path", help="REAPER resource folder (default: the platform's)")
    uninst.set_defaults(func=run_uninstall)
    index = sub.add_parser("reapack-index", help="write a ReaPack index.xml for the action scripts")
    index.add_argument("-o", "--output", default="index.xml")
    index.add_argument("--base-url", default="https://example.invalid/readdsp/reaper_ext/actions")
    index.set_defaults(func=run_reapack_index)

    project = subparsers.add_parser("render-project", help="render a .RPP's MIDI items into new takes of a copy")
    project.add_argument("input", help="the REAPER project to read (never modified)")
    project.add_argument("-o", "--output", required=True, help="the project to write (WAVs go beside it)")
    project.add_argument("--track", action="append", help="only items on this track (repeatable)")
    project.add_argument("--instrument", help="instrument for every item (default: per take / program mapping)")
    project.add_argument("--bundle", dest="model", help="instrument bundle path or name (default: the bundled model)")
    project.add_argument("--model", dest="model", help=argparse.SUPPRESS)  # the old spelling
    project.set_defaults(func=run_render_project)
