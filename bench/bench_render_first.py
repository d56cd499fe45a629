"""A first render that compiles the kernels itself vs the next one: two `readdsp render` processes sharing a fresh,
empty kernel cache (no `readdsp warmup` install step; bench_render_real.py times the README's install path).

The first process compiles the numba kernels (and caches them in NUMBA_CACHE_DIR, a new temporary folder here);
the second loads them. Prints both processes' wall and CPU seconds (user + system) and their ratios, for the
bundled example, in float32 and bfloat16: what the compile overlap with the model's loading leaves to wait for.

Usage: nice -n 10 .venv/bin/python bench/bench_render_first.py [--midi FILE.mid] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_render_real import readdsp_cmd, run_process  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "example.mid"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--midi", type=Path, default=EXAMPLE)
    parser.add_argument("--repeats", type=int, default=1, help="fresh caches per precision (medians)")
    args = parser.parse_args()
    print(f"{args.midi.name}, whole process, {os.cpu_count()} CPU(s), medians of {args.repeats} fresh caches")
    for precision in ("float32", "bfloat16"):
        firsts, seconds = [], []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
                env = {**os.environ, "READDSP_PRECISION": precision, "NUMBA_CACHE_DIR": cache}
                wav = Path(out) / "out.wav"
                firsts.append(run_process(readdsp_cmd(args.midi, wav), env))
                seconds.append(run_process(readdsp_cmd(args.midi, wav), env))
        first_cpu, second_cpu = (statistics.median(r.cpu for r in runs) for runs in (firsts, seconds))
        first_wall, second_wall = (statistics.median(r.wall for r in runs) for runs in (firsts, seconds))
        print(
            f"  {precision}: first process wall {first_wall:.2f} s, CPU {first_cpu:.2f} s; "
            f"second wall {second_wall:.2f} s, CPU {second_cpu:.2f} s"
        )
        print(
            f"    first / second: CPU {first_cpu / second_cpu:.2f}x, wall {first_wall / second_wall:.2f}x  "
            f"target <= 2.00x  {'MET' if first_wall / second_wall <= 2.0 else 'NOT MET'}"
        )
        print(f"    first summary: {firsts[-1].output.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
