"""Generate the guitar training project: FluidSynth renders of Bach chorale chords and lines, annotated by MIDI items.

Each take (one WAV) holds phrases of chorale chords (all four voices) or single chorale lines, at a random tempo.
Every phrase or bar has an openness: CC55 = 0 renders with the muted guitar (GM 28), CC55 = 127 with the open steel
guitar (GM 26 by default). Velocities follow a per-phrase dynamic with per-note jitter. The project holds one audio
track ("Guitar DI") and one MIDI track ("Annotation") whose items cover the audio items in project time; some audio
items are split with SOFFS to exercise item offsets.

    python -m readdsp.scripts.make_guitar_project OUT_DIR --minutes 10 --seed 0
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

from readdsp.core.atomic import atomic_path, write_bytes
from readdsp.datasets.fluidsynth import render_midi, resolve_soundfont
from readdsp.reaper_ext.rpp_build import TICKS_PER_QN, ItemSpec, MidiEvent, project_text

MUTED_PROGRAM, OPEN_PROGRAM = 28, 26
LOW, HIGH = 40, 86  # E2 .. D6
GAP_S = 0.6
TICKS_PER_S = 2 * TICKS_PER_QN  # 120 bpm


@dataclass
class GuitarNote:
    pitch: int
    onset: float
    offset: float
    velocity: int
    openness: int  # CC55 value in force at the onset


def _fit_range(pitch: int) -> int:
    while pitch < LOW:
        pitch += 12
    while pitch > HIGH:
        pitch -= 12
    return pitch


def chorale_phrase(path: str, rng: np.random.Generator, start: float, max_seconds: float) -> list[GuitarNote]:
    """Up to `max_seconds` of one chorale from `start`: chords (all voices) or one line, with openness and dynamics."""
    from music21 import corpus

    score = corpus.parse(path)
    parts = list(score.parts)
    chords = rng.random() < 0.5
    chosen = parts if chords else [parts[int(rng.integers(len(parts)))]]
    seconds_per_qn = float(rng.uniform(0.3, 0.6)) * (1.0 if chords else 0.7)
    shift = -12 if chords and rng.random() < 0.5 else 0
    raw = []
    for part in chosen:
        for n in part.flatten().notes:
            for pitch in getattr(n, "pitches", ()):
                onset = float(n.offset) * seconds_per_qn
                if onset >= max_seconds:
                    continue
                duration = max(float(n.quarterLength) * seconds_per_qn * float(rng.uniform(0.6, 1.0)), 0.08)
                raw.append((onset, onset + duration, _fit_range(int(pitch.midi) + shift)))
    base = int(rng.integers(25, 125))
    bar = 4 * seconds_per_qn
    openness = {b: int(rng.choice([0, 127])) for b in range(int(max_seconds / bar) + 2)}
    per_phrase = rng.random() < 0.5
    first = openness[0]
    out = []
    for onset, offset, pitch in sorted(raw):
        velocity = int(np.clip(base + rng.normal(0, 8), 1, 127))
        value = first if per_phrase else openness[int(onset / bar)]
        out.append(GuitarNote(pitch, start + onset, start + min(offset, max_seconds), velocity, value))
    return out


def render_take(notes: list[GuitarNote], seconds: float, sample_rate: int, soundfont: Path) -> np.ndarray:
    """FluidSynth audio of the notes: muted-openness notes on the muted program, the others on the open one."""
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_QN)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    events = [(0, mido.Message("program_change", channel=0, program=MUTED_PROGRAM))]
    events.append((0, mido.Message("program_change", channel=1, program=OPEN_PROGRAM)))
    for note in notes:
        channel = 0 if note.openness < 64 else 1
        on, off = int(round(note.onset * TICKS_PER_S)), int(round(note.offset * TICKS_PER_S))
        events.append((on, mido.Message("note_on", channel=channel, note=note.pitch, velocity=note.velocity)))
        events.append((off, mido.Message("note_off", channel=channel, note=note.pitch, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1].type == "note_on"))
    tick = 0
    for at, message in events:
        track.append(message.copy(time=at - tick))
        tick = at
    with tempfile.TemporaryDirectory(prefix="readdsp-guitar-") as tmp:
        path = Path(tmp) / "take.mid"
        midi.save(path)
        audio = render_midi(path, soundfont, sample_rate, max((n.offset for n in notes), default=0.0))
    n = int(round(seconds * sample_rate))
    out = np.zeros(n, np.float32)
    out[: min(n, len(audio))] = audio[:n]
    return out


def annotation_events(notes: list[GuitarNote], item_start: float) -> list[MidiEvent]:
    """MIDI events of one item (ticks from its start): CC55 whenever the openness changes, then the notes."""
    events: list[MidiEvent] = []
    current = None
    for note in sorted(notes, key=lambda n: n.onset):
        tick_on = int(round((note.onset - item_start) * TICKS_PER_S))
        if note.openness != current:
            events.append(MidiEvent(max(tick_on - 1, 0), 0xB0, 55, note.openness))
            current = note.openness
        events.append(MidiEvent(tick_on, 0x90, note.pitch, note.velocity))
        events.append(MidiEvent(int(round((note.offset - item_start) * TICKS_PER_S)), 0x80, note.pitch, 0))
    return events


def make_project(out_dir: Path, minutes: float, seed: int, sample_rate: int, take_seconds: float) -> Path:
    """Write `out_dir/guitar.RPP` and its media folder; returns the project path."""
    from music21 import corpus

    rng = np.random.default_rng(seed)
    soundfont = resolve_soundfont("musescore")
    chorales = sorted(str(p) for p in corpus.getComposer("bach"))
    rng.shuffle(chorales)
    (out_dir / "media").mkdir(parents=True, exist_ok=True)
    audio_items, midi_items = [], []
    position = 1.0
    phrases = 0
    for take in range(int(np.ceil(minutes * 60 / take_seconds))):
        notes: list[GuitarNote] = []
        t = 0.5
        while t < take_seconds - 3.0:
            phrase_s = min(float(rng.uniform(4.0, 9.0)), take_seconds - 1.5 - t)
            phrase = chorale_phrase(chorales[phrases % len(chorales)], rng, t, phrase_s)
            phrases += 1
            notes += phrase
            t = max((n.offset for n in phrase), default=t) + GAP_S
        audio = render_take(notes, take_seconds, sample_rate, soundfont)
        name = f"take{take + 1:02d}.wav"
        with atomic_path(out_dir / "media" / name, ".wav") as tmp:
            sf.write(tmp, audio, sample_rate, subtype="PCM_24", format="WAV")
        cuts = [0.0, take_seconds] if take % 3 else [0.0, take_seconds / 2, take_seconds]  # some items use SOFFS
        for begin, end in zip(cuts, cuts[1:], strict=False):
            inside = [n for n in notes if begin <= n.onset < end]
            audio_items.append(ItemSpec(position + begin, end - begin, name, file=f"media/{name}", start_offset=begin))
            midi_items.append(
                ItemSpec(position + begin, end - begin, f"{name} notes", events=annotation_events(inside, begin))
            )
        position += take_seconds + 2.0
    text = project_text({"Guitar DI": audio_items, "Annotation": midi_items}, sample_rate=sample_rate)
    return write_bytes(out_dir / "guitar.RPP", text.encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample-rate", type=int, default=24000)
    parser.add_argument("--take-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    path = make_project(args.out_dir, args.minutes, args.seed, args.sample_rate, args.take_seconds)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
