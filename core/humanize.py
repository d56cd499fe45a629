"""Humanize: learned velocities and durations (and, with `timing`, onset deviations) for a Performance or a MIDI file.

The rule shared by both paths: a part's mean velocity is kept (the producer set the level) and the learned
velocity contour is added around it, blended by `amount`; durations are scaled by the learned articulation ratio
to the power `amount`; onsets move by `amount` times the learned deviation. Drum parts are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

from readdsp.core.atomic import write_bytes
from readdsp.core.errors import ReaDDSPError
from readdsp.core.midi_io import load_midi_file  # the one checked MIDI loader (clear one-line errors)
from readdsp.core.midi_notes import TickNote, absolute_ticks, is_drum, meter_changes, tick_notes
from readdsp.core.performance import Performance
from readdsp.core.performance_model import PerformanceModel
from readdsp.core.score_features import ScoreNotes, bar_grid, score_order
from readdsp.core.tempo_map import TempoMap

_MODEL: PerformanceModel | None = None


def default_model() -> PerformanceModel:
    """The bundled performance model, loaded once per process."""
    global _MODEL
    if _MODEL is None:
        _MODEL = PerformanceModel.load()
    return _MODEL


@dataclass
class HumanizedPart:
    """What humanize decided for one part's notes (input order): velocity, duration factor, onset shift (quarters)."""

    velocity: np.ndarray
    duration_factor: np.ndarray
    onset_shift: np.ndarray


def humanize_part(
    model: PerformanceModel,
    pitch: np.ndarray,
    onset_q: np.ndarray,
    duration_q: np.ndarray,
    velocity: np.ndarray,
    meters: list[tuple[float, float]],
    amount: float,
    timing: bool,
    seed: int,
    durations: bool = True,
) -> HumanizedPart:
    """Humanize one part given in quarter notes; returns per-note results in the input order."""
    if not 0.0 <= amount <= 1.0:
        raise ReaDDSPError(f"--amount must lie in 0..1 (got {amount})")
    order = score_order(pitch, onset_q)
    onset_sorted = onset_q[order]
    bar_start, bar_length = bar_grid(onset_sorted, meters)
    notes = ScoreNotes(pitch[order], onset_sorted, np.maximum(duration_q[order], 1e-3), bar_start, bar_length)
    original = velocity[order].astype(float)
    predicted = model.predict(notes, seed=seed, mean_velocity=original.mean())
    target = original.mean() + predicted.velocity - predicted.velocity.mean()
    out_velocity = np.empty(len(pitch))
    out_velocity[order] = np.clip(np.round((1 - amount) * original + amount * target), 1, 127)
    factor, shift = np.empty(len(pitch)), np.zeros(len(pitch))
    factor[order] = predicted.articulation**amount if durations else 1.0
    if timing:
        shift[order] = amount * predicted.deviation
    return HumanizedPart(out_velocity.astype(int), factor, shift)


# --- Performance (the Python API) ---


def humanize(
    performance: Performance,
    amount: float = 1.0,
    timing: bool = False,
    seed: int = 0,
    model: PerformanceModel | None = None,
    durations: bool = True,
) -> Performance:
    """A humanized copy of `performance`: learned velocities and durations (onsets too with `timing`; durations
    kept with `durations=False`); pitches, CCs, pitch bend, tempo, time signatures and drum parts are kept."""
    model = model or default_model()
    out = performance.copy()
    tempo = TempoMap.from_bpm(out.tempo_map, 960)
    meters = [  # (quarter position, quarters per bar); Performances without time signatures read as 4/4
        (tempo.to_position(seconds) / 960, numerator * 4.0 / denominator)
        for seconds, numerator, denominator in getattr(out, "time_signatures", [])
    ]
    for part_index, part in enumerate(out.parts):
        if part.is_drum or not part.notes:
            continue
        onset_s = np.array([n.onset for n in part.notes])
        offset_s = np.array([n.offset for n in part.notes])
        onset_q = np.array([tempo.to_position(t) / 960 for t in onset_s])
        offset_q = np.array([tempo.to_position(t) / 960 for t in offset_s])
        result = humanize_part(
            model,
            np.array([n.pitch for n in part.notes]),
            onset_q,
            offset_q - onset_q,
            np.array([n.velocity for n in part.notes]),
            meters,
            amount,
            timing,
            seed + part_index,
            durations,
        )
        for i, note in enumerate(part.notes):
            start_q = onset_q[i] + result.onset_shift[i]
            new_onset = max(tempo.to_seconds(start_q * 960), 0.0) if timing else note.onset
            note.velocity = int(result.velocity[i])
            note.onset = new_onset
            note.offset = new_onset + max((offset_s[i] - onset_s[i]) * result.duration_factor[i], 0.01)
    return out


# --- MIDI files: note events edited in place, every other event kept as it was ---


def humanize_midi(
    midi: mido.MidiFile,
    amount: float = 1.0,
    timing: bool = False,
    seed: int = 0,
    model: PerformanceModel | None = None,
    path: Path | None = None,
) -> mido.MidiFile:
    """`midi` (edited in place, and returned) with learned velocities and durations on its note events; every other
    event is kept as it was."""
    notes = tick_notes(midi)
    if not notes:
        raise ReaDDSPError("contains no notes", path)
    tonal = [n for n in notes if not is_drum(n)]
    if not tonal:
        raise ReaDDSPError("contains only drum notes (channel 10); nothing to humanize", path)
    model = model or default_model()
    tpb = midi.ticks_per_beat
    meters = meter_changes(midi)
    new_ticks: dict[tuple[int, int], int] = {}  # (track, message index) -> new absolute tick
    new_velocity: dict[tuple[int, int], int] = {}
    parts: dict[tuple[int, int], list[TickNote]] = {}
    for note in tonal:
        parts.setdefault((note.track, note.channel), []).append(note)
    for part_index, (_, part) in enumerate(sorted(parts.items())):
        on = np.array([n.on_tick for n in part], float)
        off = np.array([n.off_tick for n in part], float)
        result = humanize_part(
            model,
            np.array([n.pitch for n in part]),
            on / tpb,
            np.maximum(off - on, 1) / tpb,
            np.array([n.velocity for n in part]),
            meters,
            amount,
            timing,
            seed + part_index,
        )
        starts = np.maximum(np.round(on + result.onset_shift * tpb), 0).astype(int)
        ends = np.maximum(starts + np.round((off - on) * result.duration_factor), starts + 1).astype(int)
        end_before_next_of_key(part, starts, ends)
        for i, note in enumerate(part):
            new_velocity[(note.track, note.on_index)] = int(result.velocity[i])
            new_ticks[(note.track, note.on_index)] = int(starts[i])
            if note.off_index is not None:
                new_ticks[(note.track, note.off_index)] = int(ends[i])
    out = mido.MidiFile(type=midi.type, ticks_per_beat=tpb, charset=midi.charset)
    for track_index, track in enumerate(midi.tracks):
        out.tracks.append(edited_track(track, track_index, new_ticks, new_velocity))
    return out


def end_before_next_of_key(part: list[TickNote], starts: np.ndarray, ends: np.ndarray) -> None:
    """End each note no later than the next onset of the same pitch (so note pairs stay unambiguous)."""
    by_pitch: dict[int, list[int]] = {}
    for i in np.argsort(starts, kind="stable"):
        by_pitch.setdefault(part[i].pitch, []).append(int(i))
    for indices in by_pitch.values():
        for current, following in zip(indices, indices[1:], strict=False):
            ends[current] = max(min(ends[current], starts[following]), starts[current])


def edited_track(track, track_index, new_ticks, new_velocity) -> mido.MidiTrack:
    """The track with moved note events re-placed; unmoved events keep their order (moved note-offs first at a
    tick, moved note-ons last), so a file whose notes do not move differs only in velocities. The messages are
    edited in place (the caller's MidiFile was read for this edit)."""
    events = []
    ticks = absolute_ticks(track)
    last = max([ticks[-1] if ticks else 0, *(t for (ti, _), t in new_ticks.items() if ti == track_index)])
    for index, (tick, msg) in enumerate(zip(ticks, track, strict=True)):
        key = (track_index, index)
        if key in new_velocity:  # checked ints (1..127, ticks >= 0) set past mido's per-attribute checks
            vars(msg)["velocity"] = new_velocity[key]
        group = 1
        if key in new_ticks and new_ticks[key] != tick:
            tick = new_ticks[key]
            group = 0 if msg.type == "note_off" or msg.velocity == 0 else 2
        elif msg.type == "end_of_track":
            tick, group = last, 3
        events.append((tick, group, index, msg))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    edited, previous = mido.MidiTrack(), 0
    for tick, _, _, msg in events:
        vars(msg)["time"] = tick - previous
        edited.append(msg)
        previous = tick
    return edited


def humanize_file(
    in_path: str | Path,
    out_path: str | Path,
    amount: float = 1.0,
    timing: bool = False,
    seed: int = 0,
    model: PerformanceModel | None = None,
) -> Path:
    """Humanize a MIDI file into `out_path` (atomic; the input is never modified)."""
    in_path, out_path = Path(in_path), Path(out_path)
    if in_path.resolve() == out_path.resolve():
        raise ReaDDSPError("output would overwrite the input; choose another -o", out_path)
    midi = load_midi_file(in_path)
    edited = humanize_midi(midi, amount, timing, seed, model, in_path)
    return write_bytes(out_path, midi_bytes(edited))


def midi_bytes(midi: mido.MidiFile) -> bytes:
    """The standard MIDI file bytes of `midi`."""
    import io

    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()
