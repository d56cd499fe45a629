"""Render speed on real music (music21 string quartets, Bach from ../shared/data), whole process, vs FluidSynth.

Every figure is printed beside its target (issue 13). Whole-process times are medians of `--repeats` runs of
`readdsp render` (Python start, model load, render, WAV write) and of the FluidSynth CLI with FluidR3_GM, at 48 kHz;
against FluidSynth they run in interleaved rounds, and the ratio is the median of the rounds' ratios.
  * 6-minute quartet: ours / FluidSynth <= 3x, in float32 (READDSP_PRECISION=float32) and bfloat16;
  * cost per second of music flat (within +-20% of its median) from 30 s to 10 minutes;
  * >= 100x real time per monophonic part, float32 (each voice of each part alone; whole parts are printed too);
  * peak memory <= 1 GB for a 10-minute 4-part piece;
  * under load (this script starts one busy process): wall <= 2.2x and CPU time <= 1.2x the quiet figures;
  * first render after install (the README's: `pip install`, then `readdsp warmup` into an empty kernel cache) within
    2x of a warm render, whole process; the first render without that step is printed beside it.
Wall-clock figures need a quiet machine; CPU times are printed too.

Usage: .venv/bin/python bench/bench_render_real.py [--repeats 3] [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from readdsp.core.models.precision import bfloat16_instructions, cpuinfo

QUARTETS = {  # music21 corpus path -> label
    "beethoven/opus18no1/movement1.mxl": "Beethoven op. 18 no. 1/i",
    "haydn/opus74no1/movement1.mxl": "Haydn op. 74 no. 1/i",
    "mozart/k458/movement2.mxl": "Mozart K. 458/ii",
}
# Real Bach beside the quartets: the score MIDI of the fugue BWV 848 from ASAP (two staves, three voices), in the
# project's shared data folder (../shared/data, see its README); READDSP_SHARED_DATA names another place.
SHARED_DATA = Path(os.environ.get("READDSP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
BACH = ("performance/asap/Bach/Fugue/bwv_848/midi_score.mid", "Bach BWV 848 fugue (ASAP score)")
CURVE_SECONDS = (30, 60, 120, 240, 360, 600)
QUARTET_SECONDS = 360
LONG_SECONDS = 600
SAMPLE_RATE = 48000


@dataclass
class Run:
    """One child process: wall seconds, CPU seconds (user + system) and peak resident MB."""

    wall: float
    cpu: float
    peak_mb: float
    output: str


def run_process(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run `cmd` to completion and measure it alone (os.wait4 gives this child's own resource usage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}):\n{output[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output)


def median_run(cmd: list[str], repeats: int, env: dict[str, str] | None = None) -> Run:
    """Field-wise medians of `repeats` runs."""
    return median_of([run_process(cmd, env) for _ in range(repeats)])


def median_of(runs: list[Run]) -> Run:
    """Field-wise medians of runs (the last one's output)."""
    return Run(
        statistics.median(r.wall for r in runs),
        statistics.median(r.cpu for r in runs),
        statistics.median(r.peak_mb for r in runs),
        runs[-1].output,
    )


def environment(precision: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "READDSP_PRECISION": precision, **extra}


def readdsp_cmd(midi: Path, wav: Path) -> list[str]:
    return [sys.executable, "-m", "readdsp.scripts.cli", "render", str(midi), "-o", str(wav)]


def fluidsynth_cmd(midi: Path, wav: Path) -> list[str]:
    from readdsp.datasets.fluidsynth import fluidsynth_binary, resolve_soundfont

    sf2 = str(resolve_soundfont("fluidr3"))
    quiet = ["-ni", "-q", "-R", "0", "-C", "0"]  # no shell, no reverb, no chorus
    return [fluidsynth_binary(), *quiet, "-r", str(SAMPLE_RATE), "-F", str(wav), sf2, str(midi)]


def number_first_endings(score) -> None:
    """Give unnumbered repeat brackets the number 1. music21's corpus encodes some first endings without a number
    (Mozart K. 458/ii: bars 38 and 62), and its repeat expander then refuses the whole movement ("badly formed
    repeats"); numbered, it plays the repeats as written."""
    from music21 import spanner

    for bracket in score.recurse().getElementsByClass(spanner.RepeatBracket):
        if not bracket.number:
            bracket.number = 1
    for part in score.parts:
        for bracket in part.spanners.getElementsByClass(spanner.RepeatBracket):
            if not bracket.number:
                bracket.number = 1


def write_corpus_midi(folder: Path) -> dict[str, Path]:
    """The quartets from the music21 corpus as MIDI files in `folder`, plus the Bach fugue from the shared data."""
    from music21 import corpus

    written = {}
    for name, label in QUARTETS.items():
        path = folder / (name.replace("/", "_").removesuffix(".mxl") + ".mid")
        score = corpus.parse(name)
        number_first_endings(score)
        score.write("midi", fp=str(path))
        written[label] = path
    bach = SHARED_DATA / BACH[0]
    if bach.is_file():
        written[BACH[1]] = bach
    else:
        print(f"  (skipped {BACH[1]}: {bach} is absent; set READDSP_SHARED_DATA to the shared data folder)")
    return written


def cut_midi(source: Path, seconds: float, target: Path) -> Path:
    """The first `seconds` of a MIDI file, looped if it is shorter (notes cut at the end)."""
    from readdsp.core.midi_io import read_midi, write_midi
    from readdsp.core.performance import Note

    perf = read_midi(source)
    period = perf.duration
    for part in perf.parts:
        notes = []
        for loop in range(int(seconds // period) + 1):
            shift = loop * period
            for n in part.notes:
                if n.onset + shift < seconds:
                    notes.append(Note(n.pitch, n.onset + shift, min(n.offset + shift, seconds), n.velocity))
        part.notes, part.cc, part.pitch_bend = notes, {}, []
    return write_midi(perf, target)


def busy_loop() -> None:
    """The CPU hog of the under-load case: one core busy until terminated."""
    x = 0
    while True:
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF


def report(name: str, value: float, target: str, met: bool, unit: str = "") -> None:
    print(f"  {name}: {value:.2f}{unit}  target {target}  {'MET' if met else 'NOT MET'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run each, and only the 6-minute quartet")
    parser.add_argument("--pieces", action="store_true", help="only section 6: every piece whole vs FluidSynth")
    parser.add_argument("--quartet-seconds", type=float, default=QUARTET_SECONDS, help="length of the main quartet")
    parser.add_argument("--out", type=Path, help="folder for MIDI and WAVs (default: a temporary folder)")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if args.pieces:
            whole_pieces(folder, repeats, write_corpus_midi(folder))
        else:
            measure(folder, repeats, args.quick, args.quartet_seconds)


def cpu_description() -> str:
    """The CPU's model name and its bfloat16 instructions, which decide what READDSP_PRECISION=bfloat16 costs."""
    info = cpuinfo()
    if not info:
        return "CPU unknown"
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    bf16 = bfloat16_instructions(info)
    return f"{model}; bfloat16 instructions: {', '.join(bf16) if bf16 else 'none (bfloat16 is emulated)'}"


def measure(folder: Path, repeats: int, quick: bool, quartet_seconds: float) -> None:
    print(f"whole process, medians of {repeats}, {os.cpu_count()} CPU(s), {SAMPLE_RATE} Hz; MIDI in {folder}")
    print(f"CPU: {cpu_description()}")
    pieces = write_corpus_midi(folder)
    source = next(iter(pieces.values()))
    quartet = cut_midi(source, quartet_seconds, folder / "quartet.mid")
    wav = folder / "out.wav"

    print(f"\n1. {quartet_seconds / 60:.1f}-minute quartet ({source.name}) vs FluidSynth (FluidR3_GM), interleaved")
    rounds = against_fluidsynth(quartet, folder, repeats)
    fluid = median_of(rounds["fluidsynth"])
    print(f"  FluidSynth: wall {fluid.wall:.2f} s, CPU {fluid.cpu:.2f} s, peak {fluid.peak_mb:.0f} MB")
    quiet = {}
    for precision in ("float32", "bfloat16"):
        run = quiet[precision] = median_of(rounds[precision])
        ratios = paired_ratios(rounds, precision)
        print(f"  ReaDDSP {precision}: wall {run.wall:.2f} s, CPU {run.cpu:.2f} s, peak {run.peak_mb:.0f} MB")
        print(f"    per-round ratios: {', '.join(f'{r:.2f}' for r in ratios)}")
        ratio = statistics.median(ratios)
        report(f"ratio vs FluidSynth ({precision}, median of rounds)", ratio, "<= 3.00", ratio <= 3.0)

    print("\n2. under load: one busy process started by this bench (float32)")
    hog = multiprocessing.Process(target=busy_loop, daemon=True)
    hog.start()
    try:
        loaded = median_run(readdsp_cmd(quartet, wav), repeats, environment("float32"))
    finally:
        hog.terminate()
    wall_ratio, cpu_ratio = loaded.wall / quiet["float32"].wall, loaded.cpu / quiet["float32"].cpu
    print(f"  loaded: wall {loaded.wall:.2f} s, CPU {loaded.cpu:.2f} s")
    report("wall loaded / quiet", wall_ratio, "<= 2.20", wall_ratio <= 2.2)
    report("CPU loaded / quiet", cpu_ratio, "<= 1.20", cpu_ratio <= 1.2)

    print("\n3. first render after install vs warm, whole process, bundled example (float32), empty kernel caches")
    example = Path(__file__).resolve().parents[1] / "examples" / "example.mid"
    with tempfile.TemporaryDirectory() as cache:  # the README's install: pip install, then `readdsp warmup`
        env = environment("float32", NUMBA_CACHE_DIR=cache)
        install_step = run_process([sys.executable, "-m", "readdsp.scripts.cli", "warmup"], env)
        first = run_process(readdsp_cmd(example, wav), env)
        warm = median_run(readdsp_cmd(example, wav), repeats, env)
    print(f"  `readdsp warmup` {install_step.wall:.2f} s; first render {first.wall:.2f} s, warm {warm.wall:.2f} s")
    ratio = first.wall / warm.wall
    report("first / warm, installed as the README says", ratio, "<= 2.00", ratio <= 2.0)
    with tempfile.TemporaryDirectory() as cache:  # no install step: the first render compiles the kernels itself
        cold = run_process(readdsp_cmd(example, wav), environment("float32", NUMBA_CACHE_DIR=cache))
    print(f"  without the install step: first {cold.wall:.2f} s = {cold.wall / warm.wall:.2f}x warm; its summary:")
    print(f"    {cold.output.strip().splitlines()[-1]}")
    if quick:
        return

    print("\n4. cost per second of music (render only, float32, medians of interleaved rounds), 30 s to 10 minutes")
    costs, cpu_costs = {}, {}
    children = {
        seconds: [
            sys.executable,
            str(Path(__file__).resolve().parent / "render_timing.py"),
            str(cut_midi(source, seconds, folder / f"cut_{seconds}.mid")),
        ]
        for seconds in CURVE_SECONDS
    }
    # every cut once per round, so that a slow spell of a shared machine falls on several cuts, not on one cut's runs
    rounds = [{s: run_process(child, environment("float32")) for s, child in children.items()} for _ in range(repeats)]
    for seconds in CURVE_SECONDS:
        runs = [each[seconds] for each in rounds]
        timings = [json.loads(run.output.strip().splitlines()[-1]) for run in runs]
        render_s = statistics.median(t["render_s"] for t in timings)
        render_cpu_s = statistics.median(t["render_cpu_s"] for t in timings)
        voice_seconds = timings[0]["voice_seconds"]
        peak_mb = statistics.median(run.peak_mb for run in runs)
        costs[seconds] = render_s / seconds
        cpu_costs[seconds] = render_cpu_s / voice_seconds
        print(
            f"  {seconds:4d} s: render {render_s:.2f} s (CPU {render_cpu_s:.2f} s) = "
            f"{1000 * costs[seconds]:.1f} ms per second of music; "
            f"{voice_seconds / seconds:.1f} voice-seconds generated per second of music, "
            f"{1000 * render_s / voice_seconds:.2f} ms each (CPU {1000 * cpu_costs[seconds]:.2f} ms); "
            f"whole process peak {peak_mb:.0f} MB"
        )
        if seconds == LONG_SECONDS:
            report("peak memory, 10-minute 4-part piece", peak_mb, "<= 1024 MB", peak_mb <= 1024, " MB")
    cpu_middle = statistics.median(cpu_costs.values())
    cpu_spread = max(abs(c / cpu_middle - 1.0) for c in cpu_costs.values())
    print(f"  CPU per voice-second, largest deviation from its median: {100 * cpu_spread:.1f}% (no target: the")
    print("  algorithm's own cost, which other processes on the machine move less than wall time)")
    middle = statistics.median(costs.values())
    spread = max(abs(c / middle - 1.0) for c in costs.values())
    report("largest deviation from the median cost per second", 100 * spread, "<= 20%", spread <= 0.2, "%")

    print("\n5. x real time per monophonic part (float32, render only): each part of each piece alone, and each")
    print("   of its monophonic lines (the voices the renderer splits it into) alone; the target is on the lines")
    for label, path in pieces.items():
        child = [sys.executable, str(Path(__file__).resolve().parent / "render_timing.py"), str(path), "--per-part"]
        run = run_process(child, environment("float32"))
        timing = json.loads(run.output.strip().splitlines()[-1])
        parts = zip(timing["parts_x_real_time"], timing["parts_voices"], strict=True)
        print(f"  {label}, whole parts: " + ", ".join(f"{x:.0f}x ({voices} voices)" for x, voices in parts))
        worst = min(timing["lines_x_real_time"])
        count = len(timing["lines_x_real_time"])
        report(f"{label}: slowest of its {count} monophonic lines, x real time", worst, ">= 100x", worst >= 100, "x")

    whole_pieces(folder, repeats, pieces)


def against_fluidsynth(midi: Path, folder: Path, repeats: int) -> dict[str, list[Run]]:
    """`repeats` rounds of FluidSynth, then ours in float32 and bfloat16, back to back: a slow spell of a shared
    machine then slows the anchor and ours alike, and each round compares runs seconds apart."""
    rounds: dict[str, list[Run]] = {"fluidsynth": [], "float32": [], "bfloat16": []}
    for _ in range(repeats):
        rounds["fluidsynth"].append(run_process(fluidsynth_cmd(midi, folder / "fs.wav")))
        for precision in ("float32", "bfloat16"):
            rounds[precision].append(run_process(readdsp_cmd(midi, folder / "out.wav"), environment(precision)))
    return rounds


def paired_ratios(rounds: dict[str, list[Run]], precision: str) -> list[float]:
    """Each round's wall time of ours over FluidSynth's."""
    return [ours.wall / anchor.wall for ours, anchor in zip(rounds[precision], rounds["fluidsynth"], strict=True)]


def whole_pieces(folder: Path, repeats: int, pieces: dict[str, Path]) -> None:
    print("\n6. every piece whole, float32 and bfloat16, vs FluidSynth timed in the same rounds")
    for label, path in pieces.items():
        rounds = against_fluidsynth(path, folder, repeats)
        for precision in ("float32", "bfloat16"):
            ratio = statistics.median(paired_ratios(rounds, precision))
            peak = median_of(rounds[precision]).peak_mb
            report(f"{label}, {precision}: ratio vs FluidSynth (peak {peak:.0f} MB)", ratio, "<= 3.00", ratio <= 3)


if __name__ == "__main__":
    main()
