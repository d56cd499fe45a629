"""Edit-to-audio latency of the expression panel's incremental re-render (issue 16 B): target <= 300 ms median.

A 60-s violin part of real music (the first violin of a Haydn quartet from music21's corpus, cut to 60 s) is
rendered once in a RenderSession; then single notes spread over the part get a new vibrato and attack, one at a
time, and each `update()` is timed (edit -> updated mix, at 48 kHz). Runs in float32 (what most producers' CPUs
run) and in bfloat16, each in its own process so the precision setting applies from the start.

Usage: .venv/bin/python bench/bench_panel_edit.py [--bundle NAME] [--edits 15] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

TARGET_MS = 300.0


def haydn_violin_60s():
    """The first violin part of Haydn's op. 74 no. 1 (music21 corpus), first 60 s, as a one-part Performance."""
    import music21

    from readdsp.core.performance import Note, Part, Performance

    score = music21.corpus.parse("haydn/opus74no1/movement1")
    part = score.parts[0].flatten()
    notes = []
    for element in part.notes:
        onset = float(element.getOffsetBySite(part)) * 0.5  # quarter = 0.5 s (120 bpm)
        offset = onset + float(element.duration.quarterLength) * 0.5 * 0.95
        if onset >= 60.0:
            break
        pitches = element.pitches if element.isChord else [element.pitch]
        notes += [Note(int(p.midi), onset, offset, 90) for p in pitches if offset > onset]
    return Performance([Part("Violin I", 40, notes=notes)])


def measure(bundle: str | None, edits: int) -> dict:
    import numpy as np

    from readdsp.core.models.precision import inference_dtype
    from readdsp.core.render import Renderer
    from readdsp.core.render_session import RenderSession

    renderer = Renderer.load(bundle)
    plan = renderer.prepare(haydn_violin_60s())
    session = RenderSession(renderer, plan, 48000, seed=0)
    started = time.perf_counter()
    session.render()
    full_s = time.perf_counter() - started
    notes = plan.performance.parts[0].notes
    times, segments = [], []
    for k in range(edits):
        note = notes[(k * 37 + 11) % len(notes)]
        note.set_controls(vibrato=float(k % 2), attack=0.2 + 0.05 * (k % 5))
        started = time.perf_counter()
        _, stats = session.update()
        times.append(time.perf_counter() - started)
        segments.append(stats.segments_rendered)
    return {
        "precision": str(inference_dtype()).replace("torch.", ""),
        "notes": len(notes),
        "full_render_s": round(full_s, 3),
        "edit_ms_median": round(1000 * float(np.median(times)), 1),
        "edit_ms_max": round(1000 * float(np.max(times)), 1),
        "segments_per_edit": float(np.mean(segments)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle")
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import torch

        torch.set_num_threads(args.threads)
        print(json.dumps(measure(args.bundle, args.edits)))
        return 0
    for precision in ("float32", "bfloat16"):
        env = dict(os.environ, READDSP_PRECISION=precision)
        command = [sys.executable, __file__, "--child", "1", "--edits", str(args.edits), "--threads", str(args.threads)]
        command += ["--bundle", args.bundle] if args.bundle else []
        row = json.loads(subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout)
        verdict = "met" if row["edit_ms_median"] <= TARGET_MS else "NOT met"
        print(
            f"{precision:>8}: one-note edit in a 60-s part ({row['notes']} notes): median {row['edit_ms_median']} ms, "
            f"max {row['edit_ms_max']} ms, {row['segments_per_edit']:.1f} segment(s) per edit, full render "
            f"{row['full_render_s']} s; target <= {TARGET_MS:.0f} ms median: {verdict}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
