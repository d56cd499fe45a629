"""Child process of the render benches: time one render (after a warm-up) and print the figures as one JSON line.

Usage: .venv/bin/python bench/render_timing.py FILE.mid [--per-part]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import readdsp  # noqa: F401 - first, so the thread policy is set before torch loads


def timed_render(renderer, performance) -> tuple[float, float]:
    """(wall, CPU) seconds of one render at 48 kHz."""
    wall, cpu = time.perf_counter(), time.process_time()
    renderer.render(performance, sample_rate=48000, stems=False)  # the mix only, as `readdsp render` without --stems
    return time.perf_counter() - wall, time.process_time() - cpu


def monophonic_lines(part_plan) -> list:
    """A planned part split into the monophonic voices the renderer plays it as, each a part of its own."""
    return [replace(part_plan.part, notes=[part_plan.part.notes[i] for i in indices]) for indices in part_plan.voices]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("midi", type=Path)
    parser.add_argument("--per-part", action="store_true", help="also render each part alone: x real time per part")
    args = parser.parse_args()

    from readdsp.core.midi_io import read_midi
    from readdsp.core.performance import Performance
    from readdsp.core.render import Renderer

    renderer = Renderer.load()
    renderer.render(read_midi(Path(__file__).resolve().parents[1] / "examples" / "example.mid"))  # warm-up
    performance = read_midi(args.midi)
    render_s, render_cpu_s = timed_render(renderer, performance)
    jobs = renderer.segment_jobs(renderer.prepare(performance), 0)
    figures = {
        "seconds": performance.duration,
        "render_s": render_s,
        "render_cpu_s": render_cpu_s,
        "voice_seconds": sum(job.n_frames for job in jobs) / 250,  # frames generated: what the render's cost follows
    }
    if args.per_part:
        alone = [Performance([part]) for part in performance.parts if part.notes]
        figures["parts_x_real_time"] = [piece.duration / timed_render(renderer, piece)[0] for piece in alone]
        plans = [renderer.prepare(piece).parts[0] for piece in alone]
        figures["parts_voices"] = [len(plan.voices) for plan in plans]
        lines = [Performance([line]) for plan in plans for line in monophonic_lines(plan)]
        figures["lines_x_real_time"] = [line.duration / timed_render(renderer, line)[0] for line in lines]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
