"""Generate: the pitch network samples a melodic line (or continues a prime's top line), then humanize plays it."""

from __future__ import annotations

import re
from pathlib import Path

import mido
import numpy as np
import torch

from readdsp.core.atomic import write_bytes
from readdsp.core.errors import ReaDDSPError
from readdsp.core.humanize import default_model, humanize_part, midi_bytes
from readdsp.core.midi_io import load_midi_file
from readdsp.core.midi_notes import is_drum, tick_notes
from readdsp.core.performance_model import DURATION_CLASSES, PerformanceModel, metrical_inputs

TICKS_PER_BEAT = 480
LOW, HIGH = 48, 88  # the range generated pitches are kept in


def parse_time_signature(text: str) -> tuple[int, int]:
    """'3/4' -> (3, 4); a ReaDDSPError for anything that is not N/D with D a power of two up to 32."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{1,2})\s*", text)
    if not match or int(match[1]) < 1 or int(match[2]) not in (1, 2, 4, 8, 16, 32):
        raise ReaDDSPError(f"--time-signature must look like 4/4 or 6/8 (got {text!r})")
    return int(match[1]), int(match[2])


def prime_line(midi: mido.MidiFile, path: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The prime's top line: at each onset of its tonal notes, the highest pitch; (pitches, onsets in quarters)."""
    notes = [n for n in tick_notes(midi) if not is_drum(n)]
    if not notes:
        raise ReaDDSPError("the prime contains no (non-drum) notes", path)
    top: dict[int, int] = {}
    for note in notes:
        top[note.on_tick] = max(top.get(note.on_tick, 0), note.pitch)
    ticks = np.array(sorted(top))
    return np.array([top[t] for t in ticks]), ticks / midi.ticks_per_beat


def _draw(logits: torch.Tensor, temperature: float, rng: np.random.Generator, allowed: np.ndarray | None = None) -> int:
    scores = logits.double().numpy() / max(temperature, 1e-3)
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    return int(rng.choice(len(probs), p=probs))


def sample_line(
    model: PerformanceModel,
    quarters: float,
    bar_length: float,
    temperature: float,
    seed: int,
    prime: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pitches, onsets, durations in quarters) of a line `quarters` long, after the prime if there is one."""
    rng = np.random.default_rng(seed)
    net = model.networks["pitch"]
    durations = np.array(DURATION_CLASSES)
    allowed = (np.arange(128) >= LOW) & (np.arange(128) <= HIGH)
    if prime is not None and len(prime[0]):
        pitches, onsets = prime
        gaps = np.diff(onsets, append=onsets[-1] + 1.0)
        history = list(zip(pitches.tolist(), np.abs(durations[None] - gaps[:, None]).argmin(1).tolist(), strict=True))
        start = float(onsets[-1] + gaps[-1])
        phases = list((onsets % bar_length) / bar_length)
    else:
        history, start, phases = [(int(rng.integers(60, 73)), 3)], 0.0, [0.0]
    with torch.inference_mode():
        pitch_in = torch.tensor([[p for p, _ in history]])
        duration_in = torch.tensor([[d for _, d in history]])
        phase_in = metrical_inputs(torch.tensor([phases], dtype=torch.float32))
        pitch_logits, duration_logits, state = net(pitch_in, duration_in, phase_in)
        out_pitch, out_onset, out_duration = [], [], []
        position = start if prime is not None else 0.0
        end = position + quarters
        if prime is None:
            out_pitch.append(history[0][0])
            out_onset.append(0.0)
            out_duration.append(durations[history[0][1]])
            position = durations[history[0][1]]
        while position < end - 1e-6:
            pitch = _draw(pitch_logits[0, -1], temperature, rng, allowed)
            duration_class = _draw(duration_logits[0, -1], temperature, rng)
            length = min(durations[duration_class], end - position)
            out_pitch.append(pitch)
            out_onset.append(position)
            out_duration.append(length)
            phase = torch.tensor([[(position % bar_length) / bar_length]], dtype=torch.float32)
            pitch_logits, duration_logits, state = net(
                torch.tensor([[pitch]]), torch.tensor([[duration_class]]), metrical_inputs(phase), state
            )
            position += length
    return np.array(out_pitch), np.array(out_onset), np.array(out_duration)


def generate_midi(
    bars: int,
    time_signature: tuple[int, int] = (4, 4),
    temperature: float = 1.0,
    seed: int = 0,
    prime: mido.MidiFile | None = None,
    model: PerformanceModel | None = None,
    prime_path: Path | None = None,
) -> mido.MidiFile:
    """A new humanized phrase of `bars` bars (after the prime's top line, which is written first, if given)."""
    if not 1 <= bars <= 512:
        raise ReaDDSPError(f"--bars must lie in 1..512 (got {bars})")
    if not 0.05 <= temperature <= 5.0:
        raise ReaDDSPError(f"--temperature must lie in 0.05..5 (got {temperature})")
    model = model or default_model()
    bar_length = time_signature[0] * 4.0 / time_signature[1]
    line = prime_line(prime, prime_path) if prime is not None else None
    new_pitch, new_onset, new_duration = sample_line(model, bars * bar_length, bar_length, temperature, seed, line)
    if line is not None:
        gaps = np.diff(line[1], append=line[1][-1] + 1.0)
        pitch = np.concatenate([line[0], new_pitch])
        onset = np.concatenate([line[1], new_onset])
        duration = np.concatenate([gaps, new_duration])
    else:
        pitch, onset, duration = new_pitch, new_onset, new_duration
    played = humanize_part(
        model, pitch, onset, duration, np.full(len(pitch), 80), [(0.0, bar_length)], 1.0, False, seed
    )
    to_next = np.diff(onset, append=onset[-1] + duration[-1])  # a line: no note outlasts the next onset
    length = np.minimum(duration * played.duration_factor, to_next)
    return _line_midi(pitch, onset, length, played.velocity, time_signature)


def _line_midi(pitch, onset, duration, velocity, time_signature) -> mido.MidiFile:
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("time_signature", numerator=time_signature[0], denominator=time_signature[1]))
    track.append(mido.MetaMessage("set_tempo", tempo=500_000))
    events = []
    for p, start, length, v in zip(pitch, onset, duration, velocity, strict=True):
        on = round(start * TICKS_PER_BEAT)
        events.append((on, 1, mido.Message("note_on", note=int(p), velocity=int(v))))
        events.append((max(on + round(length * TICKS_PER_BEAT), on + 1), 0, mido.Message("note_off", note=int(p))))
    previous = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - previous))
        previous = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    midi.tracks.append(track)
    return midi


def generate_file(out_path: str | Path, prime_path: str | Path | None = None, **options) -> Path:
    """`generate_midi` into `out_path` (atomic)."""
    prime = load_midi_file(Path(prime_path)) if prime_path else None
    midi = generate_midi(prime=prime, prime_path=Path(prime_path) if prime_path else None, **options)
    return write_bytes(out_path, midi_bytes(midi))
