"""`readdsp dataset from-project`: an `AnnotatedProject` (audio items + MIDI items in project time) -> cached dataset.

Rules:
- Each audio item is cut into examples of about `chunk_seconds` at the widest gap between notes near each cut
  (hard cut when there is none); the example's notes are those whose onset falls inside it, cut at its end, in
  seconds from its start, and its lanes hold the CC/bend value in force at its start, at 0 s. Notes may overlap
  (chords): the style-DDSP trainer splits voices itself.
- The item's region of its file (SOFFS, SECTION start, play rate) is read, mixed to mono and resampled to the dataset
  rate; a play rate other than 1 (without preserved pitch) is a resampling of the source, as REAPER plays it.
- An example with no note onset is dropped ("audio with no annotation"); MIDI notes that fall on no audio item are
  counted. Everything dropped is counted in the summary, per reason.
- `f0=False` stores an f0 of zeros with confidence 0 (the style-DDSP trainer takes pitch from the MIDI).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import soundfile as sf

from readdsp.core.annotated_project import AnnotatedProject, AudioSpan
from readdsp.core.control_lanes import ControlLanes
from readdsp.core.errors import ReaDDSPError
from readdsp.core.features import a_weighted_loudness
from readdsp.core.output_path import safe_file_stem
from readdsp.core.performance import Note
from readdsp.core.resample import resample
from readdsp.datasets.cache import FRAME_RATE, DatasetWriter
from readdsp.datasets.example_features import compute_features, frame_aligned

CHUNK_SECONDS = 10.0


def read_region(span: AudioSpan, sample_rate: int) -> np.ndarray:
    """The item's audio as it plays (mono float32 at `sample_rate`), zero-padded where the file runs out."""
    try:
        info = sf.info(str(span.path))
        source_rate = info.samplerate
        first = max(int(round(span.source_offset * source_rate)), 0)
        count = int(round(span.length * span.play_rate * source_rate))
        with sf.SoundFile(str(span.path)) as handle:
            handle.seek(min(first, max(handle.frames, 0)))
            audio = handle.read(count, dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, OSError) as err:
        raise ReaDDSPError(f"{span.label}: cannot read its media ({err})", span.path) from None
    mono = audio.mean(axis=1)
    if not np.isfinite(mono).all():
        raise ReaDDSPError(f"{span.label}: media holds NaN or infinite samples", span.path)
    lead = max(-int(round(span.source_offset * source_rate)), 0)  # a negative offset plays silence first
    mono = np.concatenate([np.zeros(lead, np.float32), mono])
    effective_rate = source_rate * span.play_rate
    out = resample(mono, effective_rate, sample_rate) if abs(effective_rate - sample_rate) > 1e-6 else mono
    n = int(round(span.length * sample_rate))
    padded = np.zeros(n, np.float32)
    padded[: min(n, len(out))] = out[:n]
    return padded


def _cut_points(onsets_offsets: list[tuple[float, float]], length: float, chunk: float) -> list[float]:
    """Chunk boundaries: near each multiple of `chunk`, the middle of the widest silent gap between notes."""
    cuts = [0.0]
    while length - cuts[-1] > 1.5 * chunk:
        lo, hi = cuts[-1] + 0.7 * chunk, cuts[-1] + 1.3 * chunk
        best, best_gap, end_so_far = cuts[-1] + chunk, 0.0, 0.0
        for onset, offset in onsets_offsets:
            if lo <= onset <= hi and onset - end_so_far > best_gap:
                best, best_gap = (onset + max(end_so_far, lo)) / 2, onset - end_so_far
            end_so_far = max(end_so_far, offset)
        cuts.append(best)
    return cuts + [length]


def build_from_project(
    project: AnnotatedProject,
    out_dir: str | Path,
    sample_rate: int,
    instrument: str,
    overwrite: bool = False,
    f0: bool = True,
    chunk_seconds: float = CHUNK_SECONDS,
) -> dict:
    """Write the dataset; returns a summary (examples, seconds, counts per reason, timings)."""
    notes = [n for a in project.annotations for n in a.notes]
    notes.sort(key=lambda n: (n.onset, n.pitch))
    lanes = _merged_lanes(project)
    covered = np.zeros(len(notes), bool)
    skipped = dict(project.skipped)
    seconds = f0_seconds = 0.0
    started = time.perf_counter()
    settings = {"project": str(project.path), "instrument": instrument, "f0": f0, "chunk_seconds": chunk_seconds}
    with DatasetWriter(out_dir, sample_rate, [instrument], overwrite, settings) as writer:
        for span in project.audio:
            audio = read_region(span, sample_rate)
            inside = [i for i, n in enumerate(notes) if span.position <= n.onset < span.end]
            covered[inside] = True
            spans = [(notes[i].onset - span.position, notes[i].offset - span.position) for i in inside]
            cuts = _cut_points(spans, span.length, chunk_seconds)
            for k, (begin, end) in enumerate(zip(cuts, cuts[1:], strict=False)):
                chunk_notes = [
                    Note(notes[i].pitch, on - begin, min(off, end) - begin, notes[i].velocity)
                    for i, (on, off) in zip(inside, spans, strict=True)
                    if begin <= on < end
                ]
                if not chunk_notes:
                    skipped["audio with no annotation"] = skipped.get("audio with no annotation", 0) + 1
                    continue
                piece = audio[int(round(begin * sample_rate)) : int(round(end * sample_rate))]
                took = time.perf_counter()
                if f0:
                    features = compute_features(piece, sample_rate)
                    f0_hz, confidence, aligned = features.f0_hz, features.f0_confidence, features.audio
                else:
                    aligned = frame_aligned(piece, sample_rate)
                    f0_hz = confidence = np.zeros(len(aligned) * FRAME_RATE // sample_rate, np.float32)
                loudness = features.loudness_db if f0 else a_weighted_loudness(aligned, sample_rate, FRAME_RATE)
                f0_seconds += time.perf_counter() - took if f0 else 0.0
                writer.add(
                    f"{safe_file_stem(span.label)}-{k:03d}",
                    aligned,
                    f0_hz,
                    confidence,
                    loudness,
                    np.array([[n.pitch, n.onset, n.offset, n.velocity] for n in chunk_notes], np.float64),
                    instrument,
                    piece_id=f"{span.label}#{k}",
                    source=str(span.path.name),
                    lanes=_lane_arrays(lanes.from_time(span.position + begin)),
                )
                seconds += len(aligned) / sample_rate
    unannotated = int((~covered).sum())
    if unannotated:
        skipped["notes on no audio item"] = unannotated
    if not writer.entries:
        raise ReaDDSPError("no annotated audio: no example was written", project.path)
    return {
        "examples": len(writer.entries),
        "seconds": seconds,
        "skipped": skipped,
        "messages": project.messages,
        "wall_seconds": time.perf_counter() - started,
        "f0_seconds": f0_seconds,
    }


def _merged_lanes(project: AnnotatedProject) -> ControlLanes:
    lanes = ControlLanes()
    for annotation in project.annotations:
        for controller, events in annotation.lanes.cc.items():
            lanes.cc.setdefault(controller, []).extend(events)
        lanes.pitch_bend.extend(annotation.lanes.pitch_bend)
    return ControlLanes({k: sorted(v) for k, v in lanes.cc.items()}, sorted(lanes.pitch_bend))


def _lane_arrays(lanes: ControlLanes) -> dict[str, np.ndarray]:
    arrays = {f"cc_{k}": np.asarray(v, np.float64).reshape(-1, 2) for k, v in lanes.cc.items() if v}
    if lanes.pitch_bend:
        arrays["pitch_bend"] = np.asarray(lanes.pitch_bend, np.float64).reshape(-1, 2)
    return arrays
