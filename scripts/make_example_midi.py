"""Write the bundled `examples/example.mid`: an original 8-bar quartet for violin, flute, clarinet and cello.

About 24 s in G major: 84 bpm, slowing to 76 and 66 bpm in the last two bars; slurred (overlapping) notes, a
violin double stop at the end, CC11 phrase swells, CC1 on the flute, and a pitch-bend vibrato on the violin's
long notes.
Run: `.venv/bin/python -m readdsp.scripts.make_example_midi [OUTPUT.mid]`.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from readdsp.core.midi_io import write_midi
from readdsp.core.performance import Note, Part, Performance

EXAMPLE_PATH = Path(__file__).resolve().parents[1] / "examples" / "example.mid"

# (bar index where the tempo starts, bpm); 4 beats per bar.
TEMPI = [(0, 84.0), (6, 76.0), (7, 66.0)]
BEATS_PER_BAR = 4
N_BARS = 8

_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def pitch(name: str) -> int:
    """'F#5' -> 78 (C4 = 60)."""
    semis = _NAMES[name[0]] + name.count("#") - name.count("b")
    return 12 * (int(name.lstrip("ABCDEFG#b")) + 1) + semis


def beat_to_seconds(beat: float) -> float:
    seconds, position = 0.0, 0.0
    for i, (bar, bpm) in enumerate(TEMPI):
        end = TEMPI[i + 1][0] * BEATS_PER_BAR if i + 1 < len(TEMPI) else math.inf
        start = bar * BEATS_PER_BAR
        span = min(beat, end) - max(position, start)
        if span > 0:
            seconds += span * 60.0 / bpm
        position = min(beat, end)
        if beat <= end:
            break
    return seconds


# Lines as (pitch or "r" for rest, beats); a trailing "~" slurs the note into the next one.
VIOLIN = (
    "D5 1.5~ B4 .5~ G4 1 B4 1 | E5 2~ D5 1~ B4 1 | C5 1~ E5 1~ G5 1.5 E5 .5 | D5 2 A4 1~ C5 1 | "
    "B4 1.5~ D5 .5~ G5 1~ F#5 1 | E5 1~ G5 1~ C6 1 B5 .5~ A5 .5 | A5 1~ G5 .5~ F#5 .5 E5 1~ F#5 1 | G5 4"
)
FLUTE = "r 8 | G5 2 C6 2 | A5 2~ F#5 2 | G5 1~ B5 1~ D6 2 | C6 2 E6 2 | C6 2 A5 1~ C6 1 | B5 4"
CLARINET = "B3 2 D4 2 | B3 2 E4 2 | E4 2 G4 2 | F#4 2 D4 2 | D4 2 B3 2 | E4 2 C4 2 | E4 2 F#4 2 | D4 4"
CELLO = "G2 2 B2 2 | E2 2 G2 2 | C3 2 E3 2 | D3 2 F#2 2 | B2 2 G2 2 | C3 2 A2 2 | A2 2 D3 2 | G2 4"

SLUR_OVERLAP = 0.02  # seconds a slurred note lasts past the next onset (legato)
DETACHED_GAP = 0.04  # seconds of silence before a non-slurred next note


def parse_line(line: str, velocity_base: int) -> list[Note]:
    tokens = line.replace("|", " ").split()
    notes, beat = [], 0.0
    events = []
    for name, length in zip(tokens[::2], tokens[1::2], strict=True):
        slurred = length.endswith("~")
        beats = float(length.rstrip("~"))
        if name != "r":
            events.append((pitch(name), beat, beat + beats, slurred))
        beat += beats
    for i, (midi_pitch, start, end, slurred) in enumerate(events):
        onset, offset = beat_to_seconds(start), beat_to_seconds(end)
        next_starts_here = i + 1 < len(events) and events[i + 1][1] == end
        if slurred and next_starts_here:
            offset += SLUR_OVERLAP
        elif next_starts_here:
            offset -= DETACHED_GAP
        # Phrase-shaped velocity: louder towards bar 6, softer at the close.
        arc = math.sin(math.pi * min(start / (6 * BEATS_PER_BAR), 1.0))
        velocity = int(velocity_base + 22 * arc + (6 if start % BEATS_PER_BAR == 0 else 0))
        notes.append(Note(midi_pitch, round(onset, 6), round(offset, 6), min(velocity, 120)))
    return notes


def expression_lane(start_level: float, peak: float, end_level: float, end_s: float) -> list[tuple[float, int]]:
    """CC11 every 100 ms: swell up to bar 6, then a diminuendo to the end."""
    peak_s = beat_to_seconds(6 * BEATS_PER_BAR)
    lane = []
    for i in range(int(end_s / 0.1) + 1):
        t = i * 0.1
        if t <= peak_s:
            level = start_level + (peak - start_level) * (0.5 - 0.5 * math.cos(math.pi * t / peak_s))
        else:
            level = peak + (end_level - peak) * min((t - peak_s) / (end_s - peak_s), 1.0)
        lane.append((round(t, 6), int(round(level))))
    return lane


def vibrato(notes: list[Note], min_duration: float = 1.0, depth: float = 0.2, rate: float = 5.5):
    """Pitch bend (semitones) every 20 ms: a delayed, growing vibrato on notes longer than `min_duration`."""
    bend = [(0.0, 0.0)]
    for note in notes:
        if note.duration < min_duration:
            continue
        delay = 0.25
        t = note.onset + delay
        while t < note.offset - 0.05:
            grow = min((t - note.onset - delay) / 0.4, 1.0)
            bend.append((round(t, 6), round(depth * grow * math.sin(2 * math.pi * rate * (t - note.onset)), 4)))
            t += 0.02
        bend.append((round(note.offset, 6), 0.0))
    return bend


def build_performance() -> Performance:
    violin = parse_line(VIOLIN, 78)
    final = violin[-1]
    violin.append(Note(pitch("B4"), final.onset, final.offset, final.velocity - 10))  # closing double stop
    end_s = beat_to_seconds(N_BARS * BEATS_PER_BAR)
    parts = [
        Part(
            "Violin",
            40,
            0,
            notes=violin,
            cc={11: expression_lane(70, 118, 60, end_s)},
            pitch_bend=vibrato(violin),
        ),
        Part(
            "Flute",
            73,
            1,
            notes=parse_line(FLUTE, 70),
            cc={1: [(0.0, 30)], 11: expression_lane(60, 110, 55, end_s)},
        ),
        Part("Clarinet", 71, 2, notes=parse_line(CLARINET, 62), cc={11: expression_lane(65, 100, 50, end_s)}),
        Part("Cello", 42, 3, notes=parse_line(CELLO, 72), cc={11: expression_lane(75, 112, 62, end_s)}),
    ]
    tempo_map = [(beat_to_seconds(bar * BEATS_PER_BAR), bpm) for bar, bpm in TEMPI]
    return Performance(parts=parts, ticks_per_beat=480, tempo_map=tempo_map)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else EXAMPLE_PATH
    write_midi(build_performance(), target)
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
