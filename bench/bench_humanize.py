"""Humanize: speed on a 5,000-note file (model loaded, process start-up excluded) and the held-out quality targets.

    .venv/bin/python bench/bench_humanize.py [--data ../shared/data/performance] [--bundle PATH]

Speed: `humanize_file` end to end (read, humanize, write) on a generated two-part 5,000-note file, best of 5,
beside an anchor run in the same loop (mido reading and writing the same file), as a ratio.
Quality (when the data folder exists): velocity MAE and Pearson r, articulation-ratio error and onset deviation
against the baselines on the held-out pieces, and the velocity spread on the flat score beside the humans'.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import mido
import numpy as np

from readdsp.core.humanize import humanize_file
from readdsp.core.performance_model import PerformanceModel


def write_test_file(path: Path, n_notes: int = 5000) -> Path:
    """A flat, quantised piano file: right-hand eighths and left-hand chords, n_notes in all, with CCs."""
    rng = np.random.default_rng(0)
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    events, count, beat = [], 0, 0
    while count < n_notes:
        for half in range(2):
            pitch = int(rng.integers(64, 84))
            on = beat * 480 + half * 240
            events += [(on, 1, mido.Message("note_on", note=pitch, velocity=80))]
            events += [(on + 220, 0, mido.Message("note_off", note=pitch))]
            count += 1
        if beat % 2 == 0:
            for pitch in (40 + beat % 7, 47 + beat % 7, 52 + beat % 7):
                events += [(beat * 480, 1, mido.Message("note_on", channel=1, note=pitch, velocity=80))]
                events += [(beat * 480 + 900, 0, mido.Message("note_off", channel=1, note=pitch))]
                count += 1
        events.append((beat * 480, 1, mido.Message("control_change", control=64, value=127 * (beat % 2))))
        beat += 1
    track = mido.MidiTrack([mido.MetaMessage("time_signature", numerator=4, denominator=4)])
    previous = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - previous))
        previous = tick
    midi.tracks.append(track)
    midi.save(path)
    return path


def bench_speed(model: PerformanceModel) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        src = write_test_file(Path(folder) / "flat_5000.mid")
        n_notes = sum(1 for m in mido.MidiFile(src).tracks[0] if m.type == "note_on")
        humanize_file(src, Path(folder) / "warm.mid", model=model)
        times, anchor = [], []
        for seed in range(5):  # interleaved with the anchor, so both see the same machine load
            began = time.perf_counter()
            humanize_file(src, Path(folder) / "out.mid", seed=seed, timing=True, model=model)
            times.append(time.perf_counter() - began)
            began = time.perf_counter()
            mido.MidiFile(src).save(Path(folder) / "copy.mid")
            anchor.append(time.perf_counter() - began)
    return {
        "notes": n_notes,
        "best_s": round(min(times), 3),
        "median_s": round(float(np.median(times)), 3),
        "anchor_s": round(min(anchor), 3),
        "ratio": round(min(times) / min(anchor), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / "../shared/data/performance")
    parser.add_argument("--bundle", type=Path, default=None)
    args = parser.parse_args()
    model = PerformanceModel.load(args.bundle)
    speed = bench_speed(model)
    print(
        f"speed: {speed['notes']} notes humanized in {speed['best_s']} s (median {speed['median_s']} s); target < 1 s"
    )
    print(
        f"  anchor: mido read + write of the same file {speed['anchor_s']} s; humanize = {speed['ratio']}x the anchor"
    )
    if not args.data.is_dir():
        print(f"quality: skipped, no data at {args.data}")
        return 0
    from readdsp.scripts.performance_cmd import load_pieces
    from readdsp.training.performance_eval import evaluate_model

    metrics = evaluate_model(model, load_pieces(args.data))
    for split, result in metrics.items():
        v, r, s = result["velocity"], result["articulation_ratio"], result["velocity_spread"]
        print(f"{split} ({result['performances']} performances of {len(result['pieces'])} pieces):")
        print(
            f"  velocity MAE (each method given the performance's mean velocity) {v['model']['mae']} vs constant "
            f"{v['constant']['mae']}, pitch class+metre {v['pitch_class_metre']['mae']}; r {v['model']['r']} vs "
            f"{v['constant']['r']} and {v['pitch_class_metre']['r']} (aim >= 0.5); within each performance "
            f"{result['velocity_r_within_performance']} vs {result['velocity_r_within_performance_cell']}"
        )
        print(
            f"  articulation ratio MAE {r['model']} vs constant {r['constant']}, "
            f"pitch class+metre {r['pitch_class_metre']}"
        )
        d = result["onset_deviation_quarters"]
        print(f"  onset deviation MAE {d['model']['mae']} vs score onsets {d['score_onsets']['mae']} (quarters)")
        print(
            f"  velocity spread {s['sampled_sd_mean']} vs humans {s['human_sd_mean']} "
            f"(ratio {s['ratio_mean']}, aim 0.7..1.3)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
