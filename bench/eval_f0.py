"""Raw pitch accuracy of `track_f0` on real single notes whose pitch is known from the file name.

Usage: .venv/bin/python bench/eval_f0.py [--max-per-set 100] [--tracker swift|pyin]

Sets (in shared/data, see its README): Philharmonia oboe and bass clarinet ("normal" articulation,
note lengths 025..15, a deterministic evenly spaced sample), the TinySOL clips, the electric guitar notes
and the acoustic guitar notes (names one octave low, so +12). Only the sustained middle of each note is
scored: the central half of the span whose A-weighted loudness lies within 20 dB of the note's peak.
RPA = share of those frames whose f0 lies within 50 cents of the named pitch.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from readdsp.core.features import a_weighted_loudness, track_f0

FRAME_RATE = 250
PITCH_NAME = re.compile(r"^([A-Ga-g])(s|#|b)?(-?\d)$")
SEMITONES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
PHILHARMONIA_LENGTHS = {"025", "05", "1", "15"}


def shared_data_dir() -> Path:
    env = os.environ.get("READDSP_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "../shared/data"


def name_to_midi(name: str) -> int:
    match = PITCH_NAME.match(name)
    if match is None:
        raise ValueError(f"not a pitch name: {name!r}")
    letter, accidental, octave = match.groups()
    shift = {"s": 1, "#": 1, "b": -1}.get(accidental or "", 0)
    return 12 * (int(octave) + 1) + SEMITONES[letter.upper()] + shift


def evenly_spaced(items: list[Path], limit: int) -> list[Path]:
    items = sorted(items)
    if len(items) <= limit:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, limit).round().astype(int)]


def philharmonia_set(root: Path, instrument: str, limit: int) -> list[tuple[Path, int]]:
    files = []
    for path in (root / "philharmonia" / instrument).glob("*.mp3"):
        parts = path.stem.split("_")
        if len(parts) == 5 and parts[2] in PHILHARMONIA_LENGTHS and parts[4] == "normal":
            files.append(path)
    return [(p, name_to_midi(p.stem.split("_")[1])) for p in evenly_spaced(files, limit)]


def collect_sets(root: Path, limit: int) -> dict[str, list[tuple[Path, int]]]:
    tinysol = sorted((root / "real-excerpts" / "tinysol" / "audio").rglob("*.wav"))
    guitar = root / "guitar-notes"
    return {
        "oboe": philharmonia_set(root, "oboe", limit),
        "bass-clarinet": philharmonia_set(root, "bass-clarinet", limit),
        "tinysol": [(p, name_to_midi(p.stem.split("-")[2])) for p in tinysol],
        "guitar-electric": [(p, name_to_midi(p.stem)) for p in sorted((guitar / "guitar-electric").glob("*.wav"))],
        "guitar-acoustic": [(p, name_to_midi(p.stem) + 12) for p in sorted((guitar / "guitar-acoustic").glob("*.wav"))],
    }


def sustained_middle(loudness_db: np.ndarray, within_db: float = 20.0) -> slice:
    active = np.flatnonzero(loudness_db >= loudness_db.max() - within_db)
    first, last = int(active[0]), int(active[-1])
    quarter = (last - first) // 4
    return slice(first + quarter, last - quarter + 1)


def pyin_tracker(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """librosa.pyin at 100 Hz on 16 kHz audio, interpolated (log f) onto the 250 Hz grid, for comparison."""
    signal = librosa.resample(audio, orig_sr=sample_rate, target_sr=16000)
    f0, _, prob = librosa.pyin(signal, fmin=40.0, fmax=2000.0, sr=16000, frame_length=2048, hop_length=160)
    times = np.arange(round(audio.size / sample_rate * FRAME_RATE)) / FRAME_RATE
    frame_times = np.arange(f0.size) * 160 / 16000
    ok = np.isfinite(f0)
    if not ok.any():
        return np.zeros(times.size), np.zeros(times.size)
    return np.exp2(np.interp(times, frame_times[ok], np.log2(f0[ok]))), np.interp(times, frame_times, prob)


def evaluate(
    files: list[tuple[Path, int]], tracker: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]
) -> tuple[int, int, int]:
    """(frames scored, frames within 50 cents, frames with confidence >= 0.5)."""
    scored = correct = voiced = 0
    for path, midi in files:
        audio, sample_rate = sf.read(path, dtype="float32", always_2d=True)
        audio = audio.mean(axis=1)
        f0_hz, confidence = tracker(audio, sample_rate)
        middle = sustained_middle(a_weighted_loudness(audio, sample_rate, FRAME_RATE))
        f0_mid = np.maximum(f0_hz[middle], 1e-3)
        cents = 1200.0 * np.log2(f0_mid / librosa.midi_to_hz(midi))
        scored += f0_mid.size
        correct += int(np.sum(np.abs(cents) < 50.0))
        voiced += int(np.sum(confidence[middle] >= 0.5))
    return scored, correct, voiced


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-per-set", type=int, default=100, help="Philharmonia files per instrument")
    parser.add_argument("--tracker", choices=["swift", "pyin"], default="swift")
    args = parser.parse_args(argv)
    root = shared_data_dir()
    if not root.is_dir():
        print(f"SKIP: shared data folder {root.resolve()} is absent (set READDSP_SHARED_DATA)")
        return 0
    tracker = track_f0 if args.tracker == "swift" else pyin_tracker
    total = [0, 0, 0]
    start = time.perf_counter()
    print(f"tracker={args.tracker}  data={root.resolve()}")
    print(f"{'set':<16} {'files':>5} {'frames':>7} {'RPA':>7} {'voiced':>7}")
    for name, files in collect_sets(root, args.max_per_set).items():
        if not files:
            print(f"{name:<16} (no files)")
            continue
        scored, correct, voiced = evaluate(files, tracker)
        total = [total[0] + scored, total[1] + correct, total[2] + voiced]
        print(f"{name:<16} {len(files):>5} {scored:>7} {correct / scored:>7.2%} {voiced / scored:>7.2%}")
    print(f"{'overall':<16} {'':>5} {total[0]:>7} {total[1] / total[0]:>7.2%} {total[2] / total[0]:>7.2%}")
    print(f"time {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
