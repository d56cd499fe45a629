"""Fingerprint of a render: sha256 of the bundled example rendered with a seed, to show a change is bit-identical.

    READDSP_PRECISION=float32 python bench/render_fingerprint.py [--midi examples/example.mid] [--seed 0]

Run it before and after a change on the same machine and compare the lines. For an older commit, point
`readdsp` at a checkout of it: `git worktree add /tmp/before COMMIT`, a folder holding a link `readdsp ->
/tmp/before`, and that folder first on PYTHONPATH (the first line printed names the package used).
Precision is float32 unless READDSP_PRECISION says otherwise (bfloat16 products differ between CPUs).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("READDSP_PRECISION", "float32")


def digest(audio: np.ndarray) -> str:
    """sha256 of the float32 samples, as hex (the first 16 characters are enough to compare)."""
    return hashlib.sha256(np.ascontiguousarray(audio, dtype=np.float32).tobytes()).hexdigest()[:16]


def main() -> None:
    import readdsp
    from readdsp.core.midi_io import read_midi
    from readdsp.core.render import Renderer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--midi", type=Path, default=Path(readdsp.__file__).parent / "examples" / "example.mid")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample-rate", type=int, default=48000)
    args = parser.parse_args()
    print(f"package: {Path(readdsp.__file__).parent}  precision: {os.environ['READDSP_PRECISION']}")
    started = time.perf_counter()
    result = Renderer.load().render(read_midi(args.midi), args.sample_rate, seed=args.seed)
    print(f"rendered {args.midi.name} (seed {args.seed}) in {time.perf_counter() - started:.1f} s")
    print(f"mix {digest(result.mix)} ({len(result.mix)} samples at {result.sample_rate} Hz)")
    for label in sorted(result.stems):
        print(f"stem {label}: {digest(result.stems[label])}")


if __name__ == "__main__":
    main()
