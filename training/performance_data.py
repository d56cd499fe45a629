"""Performance-model training data: score-aligned human performances (Vienna 4x22, ASAP), Weimar Jazz, Bach lines.

Every reader yields `PerformedPiece`s: one part's notes in score time (quarters) with the human targets per note,
NaN where a source does not say (Weimar Jazz has no velocities and no score; an unmatched score note has nothing).
Targets: velocity (1..127), log2 articulation ratio (performed duration / score duration at the local tempo) and
onset deviation (quarters, against a tempo curve smoothed over +-2 quarters).
"""

from __future__ import annotations

import csv
import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

from readdsp.core.errors import ReaDDSPError
from readdsp.core.midi_notes import meter_changes, tick_notes
from readdsp.core.score_features import ScoreNotes, bar_grid, score_order

log = logging.getLogger(__name__)

MISSING_PARTITURA = "reading Vienna 4x22's .match files needs partitura: pip install 'readdsp[train]'"


@dataclass
class PerformedPiece:
    """One performance of one part: the score notes and what the human did with each."""

    piece_id: str  # performances of one piece share it, so they land in one split
    source: str  # "vienna", "asap" or "jazz"
    notes: ScoreNotes
    velocity: np.ndarray
    log_articulation: np.ndarray
    deviation: np.ndarray


def split_for(piece_id: str, validation: float = 0.15, test: float = 0.15) -> str:
    """A stable split by piece: "train", "validation" or "test" from a hash of the piece id."""
    fraction = (zlib.crc32(piece_id.encode()) % 10_000) / 10_000
    return "test" if fraction < test else "validation" if fraction < test + validation else "train"


def _ordered(
    piece_id, source, pitch, onset, duration, bar_start, bar_length, velocity, perf_onset, perf_duration
) -> PerformedPiece:
    order = score_order(pitch, onset)
    notes = ScoreNotes(
        np.asarray(pitch, int)[order],
        np.asarray(onset, float)[order],
        np.asarray(duration, float)[order],
        np.asarray(bar_start, float)[order],
        np.asarray(bar_length, float)[order],
    )
    log_art, deviation = tempo_targets(
        notes.onset, notes.duration, np.asarray(perf_onset)[order], np.asarray(perf_duration)[order]
    )
    return PerformedPiece(piece_id, source, notes, np.asarray(velocity, float)[order], log_art, deviation)


def tempo_targets(
    onset_q: np.ndarray, duration_q: np.ndarray, perf_onset: np.ndarray, perf_duration: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(log2 articulation ratio, onset deviation in quarters) per note against a local linear tempo fit."""
    matched = ~np.isnan(perf_onset)
    key = np.round(onset_q, 4)
    unique = np.unique(key[matched])
    times = np.array([np.median(perf_onset[matched & (key == u)]) for u in unique])
    fit_time, fit_slope = np.full(len(unique), np.nan), np.full(len(unique), np.nan)
    for i, u in enumerate(unique):
        near = np.abs(unique - u) <= 2.0
        if near.sum() < 3:
            continue
        slope, intercept = np.polyfit(unique[near] - u, times[near], 1)
        if 0.05 <= slope <= 5.0:
            fit_time[i], fit_slope[i] = intercept, slope
    if not len(unique):
        return np.full(len(key), np.nan), np.full(len(key), np.nan)
    index = np.clip(np.searchsorted(unique, key), 0, len(unique) - 1)
    found = unique[index] == key
    seconds_per_quarter = np.where(found, fit_slope[index], np.nan)
    deviation = (perf_onset - np.where(found, fit_time[index], np.nan)) / seconds_per_quarter
    deviation = np.where(np.abs(deviation) <= 0.5, deviation, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = perf_duration / (duration_q * seconds_per_quarter)
        log_art = np.where((duration_q > 0) & (ratio > 0), np.log2(ratio), np.nan)
    return np.where(np.abs(log_art) <= 4, log_art, np.nan), deviation


# --- Vienna 4x22 (.match through partitura) ---


def vienna_pieces(folder: str | Path) -> Iterator[PerformedPiece]:
    """Each Vienna 4x22 performance (`match/*.match`), read with partitura; piece id from the file name."""
    try:
        import partitura
    except ImportError as err:
        raise ReaDDSPError(MISSING_PARTITURA) from err

    for path in sorted(Path(folder).glob("match/*.match")):
        try:
            performance, alignment, score = partitura.load_match(str(path), create_score=True)
        except Exception as err:  # noqa: BLE001 - a damaged file is skipped with a log line
            log.warning("skipping %s: %s", path.name, err)
            continue
        score_notes = score.note_array(include_metrical_position=True)
        perf_notes = performance.note_array()
        perf_by_id = {pid: i for i, pid in enumerate(perf_notes["id"])}
        score_to_perf = {a["score_id"]: a["performance_id"] for a in alignment if a["label"] == "match"}
        n = len(score_notes)
        velocity, perf_onset, perf_duration = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        for i, sid in enumerate(score_notes["id"]):
            j = perf_by_id.get(score_to_perf.get(sid, ""))
            if j is not None:
                velocity[i] = perf_notes["velocity"][j]
                perf_onset[i] = perf_notes["onset_sec"][j]
                perf_duration[i] = perf_notes["duration_sec"][j]
        divs = score_notes["divs_pq"].astype(float)
        onset = score_notes["onset_quarter"].astype(float)
        yield _ordered(
            "vienna:" + path.stem.rsplit("_p", 1)[0],
            "vienna",
            score_notes["pitch"],
            onset,
            score_notes["duration_quarter"],
            onset - score_notes["rel_onset_div"] / divs,
            np.maximum(score_notes["tot_measure_div"] / divs, 0.25),
            velocity,
            perf_onset,
            perf_duration,
        )


# --- ASAP (score MIDI + performance MIDI, linked by beat annotations) ---


def _midi_note_times(path: Path) -> tuple[mido.MidiFile, np.ndarray]:
    """The file and its notes as rows (pitch, on tick, off tick, on seconds, off seconds, velocity)."""
    midi = mido.MidiFile(path)
    changes = sorted(
        (tick, msg.tempo)
        for track in midi.tracks
        for tick, msg in zip(np.cumsum([m.time for m in track]), track, strict=True)
        if msg.type == "set_tempo"
    )
    marks, seconds, tempo, last = [0], [0.0], 500_000, 0
    for tick, value in changes:
        seconds.append(seconds[-1] + mido.tick2second(tick - last, midi.ticks_per_beat, tempo))
        marks.append(tick)
        tempo, last = value, tick
    marks_a, seconds_a = np.array(marks, float), np.array(seconds)
    tempos = np.array([500_000] + [t for _, t in changes], float)

    def to_seconds(tick: np.ndarray) -> np.ndarray:
        i = np.searchsorted(marks_a, tick, side="right") - 1
        return seconds_a[i] + (tick - marks_a[i]) * tempos[i] / 1e6 / midi.ticks_per_beat

    rows = np.array([(n.pitch, n.on_tick, n.off_tick, n.velocity) for n in tick_notes(midi)], float).reshape(-1, 4)
    on_s, off_s = to_seconds(rows[:, 1]), to_seconds(rows[:, 2])
    return midi, np.column_stack([rows[:, 0], rows[:, 1], rows[:, 2], on_s, off_s, rows[:, 3]])


def _beats(path: Path) -> np.ndarray:
    with path.open(encoding="utf-8") as f:
        return np.array([float(row[0]) for row in csv.reader(f, delimiter="\t") if row])


def _match_notes(expected_onset: np.ndarray, pitch: np.ndarray, perf: np.ndarray, tolerance: float) -> np.ndarray:
    """For each score note, the index of the unused performed note of its pitch nearest its expected onset, or -1."""
    matched = np.full(len(pitch), -1)
    by_pitch: dict[int, list[int]] = {}
    for j in np.argsort(perf[:, 3]):
        by_pitch.setdefault(int(perf[j, 0]), []).append(int(j))
    used: set[int] = set()
    for i in np.argsort(expected_onset):
        candidates = [j for j in by_pitch.get(int(pitch[i]), []) if j not in used]
        if not candidates:
            continue
        distance = np.abs(perf[candidates, 3] - expected_onset[i])
        best = int(np.argmin(distance))
        if distance[best] <= tolerance:
            matched[i] = candidates[best]
            used.add(candidates[best])
    return matched


def asap_pieces(folder: str | Path, tolerance_s: float = 0.15) -> Iterator[PerformedPiece]:
    """Each ASAP performance: score notes mapped to performance time through the paired beat annotations, then
    matched to the nearest performed note of the same pitch."""
    for score_path in sorted(Path(folder).rglob("midi_score.mid")):
        piece = score_path.parent
        try:
            score_midi, score = _midi_note_times(score_path)
            score_beats = _beats(piece / "midi_score_annotations.txt")
        except (OSError, ValueError, EOFError) as err:
            log.warning("skipping %s: %s", piece, err)
            continue
        tpb = score_midi.ticks_per_beat
        onset_q, duration_q = score[:, 1] / tpb, (score[:, 2] - score[:, 1]) / tpb
        bar_start, bar_length = bar_grid(onset_q, meter_changes(score_midi))
        piece_id = "asap:" + str(piece.relative_to(folder))
        for perf_path in sorted(piece.glob("*.mid")):
            if (
                perf_path.name == "midi_score.mid"
                or not perf_path.with_name(perf_path.stem + "_annotations.txt").exists()
            ):
                continue
            try:
                _, perf = _midi_note_times(perf_path)
                perf_beats = _beats(perf_path.with_name(perf_path.stem + "_annotations.txt"))
            except (OSError, ValueError, EOFError) as err:
                log.warning("skipping %s: %s", perf_path, err)
                continue
            n_beats = min(len(score_beats), len(perf_beats))
            if n_beats < 4 or len(score_beats) != len(perf_beats):
                log.debug("beat counts differ in %s; skipped", perf_path)
                continue
            expected = np.interp(score[:, 3], score_beats[:n_beats], perf_beats[:n_beats])
            match = _match_notes(expected, score[:, 0], perf, tolerance_s)
            hit = match >= 0
            pick = np.where(hit, match, 0)
            yield _ordered(
                piece_id,
                "asap",
                score[:, 0].astype(int),
                onset_q,
                duration_q,
                bar_start,
                bar_length,
                np.where(hit, perf[pick, 5], np.nan),
                np.where(hit, perf[pick, 3], np.nan),
                np.where(hit, perf[pick, 4] - perf[pick, 3], np.nan),
            )


# --- Weimar Jazz (performed lines only: articulation against the inter-onset interval) ---


def jazz_pieces(folder: str | Path) -> Iterator[PerformedPiece]:
    """Weimar Jazz solos: onsets put on a quarter grid at the solo's average tempo; the articulation target is the
    performed duration over the inter-onset interval; no velocity, no timing target."""
    from readdsp.datasets.note_sources import jazz_pieces as jazz_lines

    folder = Path(folder)
    tempos = {}
    with (folder / "df_solos.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                tempos[row["base_name"]] = float(row["avgtempo"])
            except (KeyError, ValueError):
                continue
    for lines in jazz_lines(folder / "score_csv.zip"):
        for line in lines:
            bpm = tempos.get(line.piece_id.removeprefix("jazz:") + "_FINAL")
            if not bpm or len(line.pitches) < 16:
                continue
            onset_q = np.round(line.starts * bpm / 60 * 12) / 12
            gap_s = np.diff(line.starts, append=line.starts[-1] + line.durations[-1])
            gap_q = np.maximum(np.diff(onset_q, append=onset_q[-1] + 1.0), 1 / 12)
            bar_start, bar_length = bar_grid(onset_q, [])
            n = len(onset_q)
            notes = ScoreNotes(line.pitches.astype(int), onset_q, gap_q, bar_start, bar_length)
            with np.errstate(divide="ignore", invalid="ignore"):
                log_art = np.log2(line.durations / np.maximum(gap_s, 1e-3))
            yield PerformedPiece(line.piece_id, "jazz", notes, np.full(n, np.nan), log_art, np.full(n, np.nan))
