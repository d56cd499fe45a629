"""`readdsp render IN.mid -o OUT.wav` and `readdsp instruments`: the fluidsynth-like front door."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

log = logging.getLogger("readdsp")
MAX_SEED = 2**32 - 1  # segment seeds come from numpy's SeedSequence, which takes no negative entropy


def register(sub: argparse._SubParsersAction) -> None:
    render = sub.add_parser("render", help="render a MIDI file with a neural instrument to a WAV file")
    render.add_argument("midi", type=Path, help="input .mid file")
    render.add_argument("-o", "--output", type=Path, required=True, help="output .wav file (the mix)")
    render.add_argument("--instrument", help="render every part with this instrument (default: program mapping)")
    render.add_argument("--sample-rate", type=int, default=48000, help="output sample rate (default 48000)")
    render.add_argument("--expression", type=Path, help="per-note expression overrides (JSON, see --save-expression)")
    render.add_argument("--save-expression", type=Path, help="write the expression every note was rendered with")
    render.add_argument("--stems", type=Path, help="also write one WAV per part into this folder")
    render.add_argument("--plot", type=Path, help="also write a PNG of the spectrogram and expression curves")
    render.add_argument("--seed", type=int, default=0, help="random seed (same seed, same audio)")
    render.add_argument(
        "--humanize",
        type=float,
        metavar="AMOUNT",
        help="humanize the notes first, 0..1 (learned velocities and durations, as `readdsp humanize --amount`)",
    )
    render.add_argument("--humanize-timing", action="store_true", help="with --humanize, move onsets too")
    render.add_argument(
        "--bundle", help="instrument bundle name or .safetensors path (default: the bundles the instruments need)"
    )
    render.add_argument("--model", dest="bundle", help=argparse.SUPPRESS)  # the old spelling
    render.add_argument(
        "--reverb", type=float, default=0.0, metavar="AMOUNT", help="add a room, 0 (dry, the default) to 1"
    )
    render.add_argument(
        "--normalize", type=float, metavar="LUFS", help="scale the mix (and stems alike) to this integrated loudness"
    )
    render.add_argument(
        "--bit-depth", choices=("16", "24", "32f"), default="32f", help="WAV sample format (default 32f: float)"
    )
    render.set_defaults(func=run_render)

    listing = sub.add_parser("instruments", help="list the bundled instruments and your own")
    listing.set_defaults(func=run_instruments)


def run_render(args: argparse.Namespace) -> int:
    from readdsp.core.kernels.warmup import start_kernel_warmup

    start_kernel_warmup()  # first render after install: compile the kernels in a child while torch loads
    from tqdm import tqdm

    from readdsp.core.audio_out import check_target_lufs, clip_warnings, normalize_gain, write_audio
    from readdsp.core.errors import ReaDDSPError
    from readdsp.core.expression_io import apply_expression, load_expression, save_expression
    from readdsp.core.midi_io import read_midi, require_notes
    from readdsp.core.output_path import check_output_file, safe_file_stem
    from readdsp.core.renderer_factory import load_renderer
    from readdsp.core.room import check_reverb_amount

    check_output_file(args.output, (".wav",))  # before any work, every output the render will write
    for extra in (args.save_expression, args.plot, args.stems / "stem.wav" if args.stems else None):
        if extra is not None:
            check_output_file(extra)
    if not 0 <= args.seed <= MAX_SEED:
        raise ReaDDSPError(f"--seed must be a whole number from 0 to {MAX_SEED} (got {args.seed})")
    if args.humanize is None and args.humanize_timing:
        raise ReaDDSPError("--humanize-timing needs --humanize")
    if args.humanize is not None and not 0.0 <= args.humanize <= 1.0:
        raise ReaDDSPError(f"--humanize must lie in 0..1 (got {args.humanize})")
    performance = require_notes(read_midi(args.midi), args.midi)
    if args.humanize is not None:  # humanize, then render: one command
        from readdsp.core.humanize import humanize

        performance = humanize(performance, args.humanize, args.humanize_timing, args.seed)
    overrides = load_expression(args.expression) if args.expression else None
    check_reverb_amount(args.reverb)
    if args.normalize is not None:
        check_target_lufs(args.normalize)
    renderer = load_renderer(args.bundle, args.instrument, performance)
    if args.instrument:
        renderer.check_instrument(args.instrument)
    from readdsp.core.compile_time import compile_seconds

    started, compiled_before = time.perf_counter(), compile_seconds()
    plan = renderer.prepare(performance, args.instrument)  # planned once, rendered as planned
    if overrides:
        apply_expression(plan.performance, overrides, args.expression)
    bar = tqdm(total=0, unit="segment", desc="render", disable=performance.duration < 30 or not sys.stderr.isatty())

    def progress(done: float, total: float) -> None:
        bar.total = int(total)
        bar.n = int(done)
        bar.refresh()

    result = renderer.render(
        plan, args.sample_rate, seed=args.seed, progress=progress, reverb=args.reverb, stems=args.stems is not None
    )
    bar.close()
    elapsed = time.perf_counter() - started
    # read with the render's clock, before the writes and the plot
    compiling = compile_seconds() - compiled_before
    gain = np.float32(1.0 if args.normalize is None else normalize_gain(result.mix, result.sample_rate, args.normalize))
    mix = result.mix if gain == 1.0 else result.mix * gain
    stems = {label: audio * gain for label, audio in result.stems.items()}
    tracks = {"mix": mix} | {f"part {label!r}": audio for label, audio in stems.items()}
    for message in [*result.warnings, *clip_warnings(tracks, result.sample_rate, args.bit_depth)]:
        print(f"readdsp: warning: {message}", file=sys.stderr)
    write_audio(args.output, mix, result.sample_rate, args.bit_depth)
    for label, audio in stems.items():
        write_audio(
            args.stems / f"{safe_file_stem(label)}_{result.instruments[label]}.wav",
            audio,
            result.sample_rate,
            args.bit_depth,
        )
    if args.save_expression:
        save_expression(result.performance, args.save_expression)
    if args.plot:
        from readdsp.core.plotting import plot_render

        plot_render(result.mix, result.sample_rate, result.performance, args.plot, title=args.midi.name)
    seconds = len(result.mix) / result.sample_rate
    parts = ", ".join(f"{label}={inst}" for label, inst in result.instruments.items())
    print(
        f"{args.output}: {seconds:.1f} s at {result.sample_rate} Hz, {performance.n_notes} notes in "
        f"{len(result.instruments)} part(s) [{parts}], rendered in {elapsed:.1f} s "
        f"({seconds / max(elapsed, 1e-9):.0f}x real time{_first_use_note(compiling)})"
    )
    return 0


def _first_use_note(compiling_s: float) -> str:
    """Say how much of a render went to compiling the kernels on first use (later renders skip it)."""
    if compiling_s < 0.5:
        return ""
    return f", of which {compiling_s:.1f} s compiling the synthesis kernels on first use; later renders skip it"


def run_instruments(args: argparse.Namespace) -> int:
    from readdsp.core.instrument_index import installed_instruments

    warnings: list[str] = []
    found = installed_instruments(warnings)
    for message in warnings:
        print(f"readdsp: warning: {message}", file=sys.stderr)
    if not found:
        print("no instrument bundles found")
        return 0
    for entry in sorted(found, key=lambda e: e.name):
        origin = "user" if entry.user else "bundled"
        ccs = ", ".join(entry.ccs) or "none"
        print(
            f"{entry.name}: bundle {entry.bundle.stem} ({origin}), {entry.family}, {entry.sample_rate} Hz, CCs: {ccs}"
        )
    return 0
