"""Perform a score line expressively as MIDI: timing in seconds, velocities, CC11/CC1 and pitch-bend vibrato.

Alignment is exact by construction: note times are quantised to MIDI ticks *before* they are stored, and the
file uses one fixed tempo, so the stored notes are exactly the notes FluidSynth plays.
"""

from __future__ import annotations

from dataclasses import dataclass

import mido
import numpy as np

from readdsp.datasets.note_sources import SourceLine

TICKS_PER_BEAT = 960
TEMPO_US = 500_000  # 120 bpm: 1920 ticks per second
TICKS_PER_SECOND = TICKS_PER_BEAT * 1_000_000 / TEMPO_US
LEAD_IN_SECONDS = 0.3
PITCH_BEND_RANGE = 2  # semitones, set explicitly with RPN 0
MIN_NOTE_SECONDS = 0.06
CC_STEP_SECONDS = 0.025
MIN_SHAPED_SECONDS = 0.06  # below this a note is one CC11 value
BEND_STEP_SECONDS = 0.01

# Event order inside one tick: release the old note, set controllers, then start the new note.
_NOTE_OFF, _CONTROL, _NOTE_ON = 0, 1, 2


@dataclass
class PerformedLine:
    """A performed chunk of a line: its MIDI and its notes ([n, 4] pitch, onset, offset, velocity)."""

    name: str
    piece_id: str
    source: str
    midi: mido.MidiFile
    notes: np.ndarray
    midi_seconds: float  # time of the last event


def fit_range(pitches: np.ndarray, low: int, high: int) -> np.ndarray:
    """Transpose a line by whole octaves to sit best in [low, high]; fold remaining outliers by octaves."""
    pitches = np.asarray(pitches, int)
    centre = low + 0.4 * (high - low)  # lines sound most natural a little below the middle of the range

    def cost(shift: int) -> tuple[int, float]:
        moved = pitches + 12 * shift
        return int(((moved < low) | (moved > high)).sum()), abs(float(np.median(moved)) - centre)

    best = min(range(-5, 6), key=cost)
    moved = pitches + 12 * best
    while (moved < low).any():
        moved = np.where(moved < low, moved + 12, moved)
    while (moved > high).any():
        moved = np.where(moved > high, moved - 12, moved)
    return moved


def perform_timing(line: SourceLine, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Onsets and offsets in seconds: random tempo with gentle rubato, held fermatas, varied articulation."""
    starts, durations = line.starts.astype(float), line.durations.astype(float)
    if line.performed:
        stretch = rng.uniform(0.85, 1.15)
        onsets, lengths = starts * stretch, durations * stretch
    else:
        bpm = rng.uniform(60, 100) if line.source == "bach" else rng.uniform(80, 140)
        depth, period, phase = rng.uniform(0, 0.06), rng.uniform(8, 16), rng.uniform(0, 2 * np.pi)

        def seconds(beats: np.ndarray) -> np.ndarray:
            wobble = depth * period / (2 * np.pi) * (np.cos(phase) - np.cos(2 * np.pi * beats / period + phase))
            return 60.0 / bpm * (beats + wobble)

        onsets = seconds(starts)
        lengths = seconds(starts + durations) - onsets
        # Fermatas: hold the note longer and breathe after it; everything later moves by the same amount.
        extra = np.where(line.fermatas, lengths * rng.uniform(0.5, 1.0, len(lengths)) + rng.uniform(0.1, 0.3), 0.0)
        onsets = onsets + np.concatenate([[0.0], np.cumsum(extra)[:-1]])
        lengths = lengths + np.where(line.fermatas, extra * 0.7, 0.0)
    legato = rng.uniform(0.8, 1.0)
    articulation = np.where(rng.random(len(lengths)) < 0.08, 0.5, legato)
    offsets = onsets + np.maximum(lengths * articulation, MIN_NOTE_SECONDS)
    return onsets, offsets


def chunk_bounds(
    onsets: np.ndarray,
    offsets: np.ndarray,
    rng: np.random.Generator,
    min_s: float = 10.0,
    max_s: float = 60.0,
) -> list[tuple[int, int]]:
    """Cut a line into [start, end) note ranges of about 15-50 s (never over `max_s`), at the widest gaps."""
    bounds, start, n = [], 0, len(onsets)
    while start < n:
        target = rng.uniform(15.0, 50.0)
        if offsets[-1] - onsets[start] <= max_s and offsets[-1] - onsets[start] <= target + min_s:
            bounds.append((start, n))
            break
        ends = np.arange(start + 1, n)  # candidate exclusive ends: cut before note `end`
        span = offsets[ends - 1] - onsets[start]
        window = ends[(span >= 0.6 * target) & (span <= min(target * 1.3, max_s))]
        if len(window) == 0:
            window = ends[span <= max_s][-1:] if (span <= max_s).any() else np.array([start + 1])
        gaps = onsets[window] - offsets[window - 1]
        end = int(window[int(np.argmax(gaps))])
        bounds.append((start, end))
        start = end
    # A short tail joins its predecessor when that stays under max_s.
    if len(bounds) > 1:
        (a, _), (_, d) = bounds[-2], bounds[-1]
        if offsets[d - 1] - onsets[bounds[-1][0]] < min_s and offsets[d - 1] - onsets[a] <= max_s:
            bounds[-2:] = [(a, d)]
    return bounds


PHRASE_GAP_SECONDS = 0.25  # a rest or breath at least this long ends a phrase
FREE_CHOICE = 0.15  # share of notes shaped at random instead of by the rules: performers are not machines
ACCENT_SHARE = 0.2  # share of notes given a single-note accent or drop (see `_velocities`)
#: A phrase's last note holds its level, then tapers over its final 0.3-0.8 s (the whole note when shorter).
TAPER_SECONDS = (0.3, 0.8)
#: Share of long notes inside a phrase that are held steady instead of swelling: corpora v11 and before had no long
#: steady note, and the Synthesis Generator learned from them could not hold one, whatever its controls
#: (docs/training.md).
STEADY_SHARE = 0.35


@dataclass
class LineContext:
    """What a performer knows about each note of a line: where its phrase goes, and where the melody goes next."""

    phrase_position: np.ndarray  # 0 at a phrase's first note, 1 at its last
    phrase_end: np.ndarray  # True on a phrase's last note
    direction: np.ndarray  # +1 if the next note is higher, -1 if lower, 0 if the same or none
    pitch_offset: np.ndarray  # semitones above the phrase's mean pitch


def line_context(pitches: np.ndarray, onsets: np.ndarray, offsets: np.ndarray) -> LineContext:
    """Split a line into phrases at rests of PHRASE_GAP_SECONDS or more, and describe each note's place in them."""
    n = len(pitches)
    gaps = np.append(onsets[1:] - offsets[:-1], np.inf)
    phrase_end = gaps >= PHRASE_GAP_SECONDS
    phrase_id = np.concatenate([[0], np.cumsum(phrase_end[:-1])])
    position = np.zeros(n)
    offset = np.zeros(n)
    for phrase in np.unique(phrase_id):
        members = np.flatnonzero(phrase_id == phrase)
        position[members] = np.linspace(0.0, 1.0, len(members)) if len(members) > 1 else 1.0
        offset[members] = pitches[members] - pitches[members].mean()
    direction = np.append(np.sign(np.diff(pitches.astype(float))), 0.0)
    direction[phrase_end] = 0.0
    return LineContext(position, phrase_end, direction, offset)


def _velocities(context: LineContext, rng: np.random.Generator) -> np.ndarray:
    """Terraced dynamics (each phrase at its own level) with a phrase arch (louder towards the middle) and melodic
    charge (higher notes louder), with jitter, and single-note accents and drops.

    The levels span velocity 15-127, pp to ff, so that a model learns the whole range a producer writes. The accents
    (ACCENT_SHARE of the notes, 12-40 velocity steps up or down) teach it that one note's velocity moves that note:
    from smooth lines alone the Expression Generator learned to lean on the neighbours, and a note repeated across
    velocities 20-127 came out 2.5-11.5 dB narrower than the soundfont plays it.
    """
    n = len(context.phrase_position)
    base, arch = rng.uniform(35, 100), rng.uniform(8, 22)
    phrase_id = np.concatenate([[0], np.cumsum(context.phrase_end[:-1])])
    terrace = rng.normal(0.0, 16.0, int(phrase_id[-1]) + 1)[phrase_id] if n else np.zeros(0)
    phrase = base + terrace + arch * np.sin(np.pi * context.phrase_position) + 1.0 * context.pitch_offset
    accents = (rng.random(n) < ACCENT_SHARE) * rng.choice([-1.0, 1.0], n) * rng.uniform(12, 40, n)
    return np.clip(np.round(phrase + accents + rng.normal(0, 3, n)), 15, 127).astype(int)


def _note_shape(duration: float, direction: float, phrase_end: bool, rng: np.random.Generator) -> tuple[str, float]:
    """A note's CC11 shape and swell peak position, from its length and where the melody goes next.

    A phrase's last note holds, then tapers at its end; a note leading up grows into the next, one leading down falls;
    long notes are held steady (STEADY_SHARE of them) or swell, peaking towards the side the melody moves to; short
    level notes stay flat. FREE_CHOICE of the notes are shaped at random.
    """
    if rng.random() < FREE_CHOICE:
        return str(rng.choice(["flat", "crescendo", "decrescendo", "swell"])), rng.uniform(0.3, 0.7)
    if phrase_end:
        return "taper", 0.5
    if duration >= 1.2 or (direction == 0 and duration >= 0.6):
        if rng.random() < STEADY_SHARE:
            return "flat", 0.5
        return "swell", 0.5 + 0.2 * direction + rng.uniform(-0.05, 0.05)
    if direction > 0:
        return "crescendo", 0.5
    if direction < 0:
        return "decrescendo", 0.5
    return "flat", 0.5


def _expression_curve(
    duration: float, level: float, shape: str, peak: float, depth: float, taper: float = TAPER_SECONDS[1]
) -> tuple[np.ndarray, np.ndarray]:
    """CC11 points (times from note onset, values) for one note: flat, crescendo, decrescendo, taper (level, then
    falling over the last `taper` seconds) or swell.

    Short notes are shaped too, more shallowly: a quick note leans into the next one or falls away from it. Left
    flat, their loudest frame would fall wherever the sample's envelope put it, which no score can predict.
    """
    if duration < MIN_SHAPED_SECONDS:
        return np.zeros(1), np.array([level])
    times = np.arange(0.0, duration, min(CC_STEP_SECONDS, duration / 4))
    shaped = min(duration, taper) if shape == "taper" else duration
    drop = depth * min(1.0, 0.4 + shaped / 1.5)  # longer shapes go deeper
    u = times / duration
    if shape == "flat":
        values = np.full_like(times, level)
    elif shape == "crescendo":
        values = level - drop * (1 - u)
    elif shape == "decrescendo":
        values = level - drop * u
    elif shape == "taper":
        values = level - drop * np.clip((times - (duration - shaped)) / shaped, 0.0, 1.0)
    else:
        values = level - drop * np.where(u < peak, 1 - u / peak, (u - peak) / (1 - peak))
    return times, values


@dataclass(frozen=True)
class VibratoHabit:
    """How a family of instruments is played: the chance of vibrato on a long note, its rate and depth ranges."""

    probability: float
    rate_hz: tuple[float, float]
    depth_semitones: tuple[float, float]


# By GM program, after common practice. Depths are the sine's amplitude (half the peak-to-peak width). String
# players' published vibrato widths are 0.2-0.35 semitones (Meyer 1992; Seashore 1938: about half a semitone on
# average), peak to peak, so +-0.10-0.25; a flute's vibrato is mostly in its level, with a small pitch excursion;
# saxophones sing wider, brass lightly on long notes, and the classical clarinet hardly at all. Corpora v9 and before
# took the strings' +-0.20-0.40 and the flutes' +-0.12-0.20 as the amplitude, twice the players' width.
_HABITS = {
    range(40, 48): VibratoHabit(0.95, (5.5, 6.5), (0.10, 0.25)),  # strings
    range(56, 64): VibratoHabit(0.6, (5.0, 6.0), (0.08, 0.15)),  # brass
    range(64, 68): VibratoHabit(0.9, (5.0, 6.0), (0.18, 0.30)),  # saxophones
    range(68, 71): VibratoHabit(0.85, (5.0, 6.0), (0.06, 0.12)),  # oboe, english horn, bassoon
    range(71, 72): VibratoHabit(0.1, (5.0, 6.0), (0.04, 0.08)),  # clarinet
    range(72, 80): VibratoHabit(0.9, (4.5, 5.5), (0.05, 0.12)),  # flutes and pipes
}
_DEFAULT_HABIT = VibratoHabit(0.7, (5.0, 6.0), (0.10, 0.25))


def vibrato_habit(program: int) -> VibratoHabit:
    """The vibrato habit of the instrument family a GM program belongs to."""
    return next((habit for programs, habit in _HABITS.items() if program in programs), _DEFAULT_HABIT)


def _vibrato_bend(
    duration: float, rate: float, depth: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Pitch-bend points (times from onset, semitones): a delayed sine LFO fading in over 0.2 s."""
    delay = rng.uniform(0.05, 0.2)
    times = np.arange(delay, duration - 0.01, BEND_STEP_SECONDS)
    fade = np.clip((times - delay) / 0.2, 0.0, 1.0)
    return times, depth * fade * np.sin(2 * np.pi * rate * (times - delay))


def build_midi(
    pitches: np.ndarray, onsets: np.ndarray, offsets: np.ndarray, program: int, rng: np.random.Generator
) -> tuple[mido.MidiFile, np.ndarray, float]:
    """An expressive one-channel MIDI file for a monophonic line, the exact notes it holds, its length (s)."""
    on_ticks = np.round(np.asarray(onsets) * TICKS_PER_SECOND).astype(np.int64)
    off_ticks = np.round(np.asarray(offsets) * TICKS_PER_SECOND).astype(np.int64)
    off_ticks[:-1] = np.minimum(off_ticks[:-1], on_ticks[1:])  # strictly monophonic after rounding
    off_ticks = np.maximum(off_ticks, on_ticks + 1)
    context = line_context(np.asarray(pitches), on_ticks / TICKS_PER_SECOND, off_ticks / TICKS_PER_SECOND)
    velocities = _velocities(context, rng)
    level, depth = rng.uniform(85, 125), rng.uniform(25, 70)  # this performer's CC11 level and shaping depth
    habit = vibrato_habit(program)
    vibrato_rate = rng.uniform(*habit.rate_hz)
    vibrato_depth = rng.uniform(*habit.depth_semitones)

    events: list[tuple[int, int, mido.Message]] = [
        (0, _CONTROL, mido.Message("program_change", program=program)),
        (0, _CONTROL, mido.Message("control_change", control=101, value=0)),
        (0, _CONTROL, mido.Message("control_change", control=100, value=0)),
        (0, _CONTROL, mido.Message("control_change", control=6, value=PITCH_BEND_RANGE)),
        (0, _CONTROL, mido.Message("control_change", control=38, value=0)),
    ]

    def tick(seconds: float) -> int:
        return int(round(seconds * TICKS_PER_SECOND))

    for i, (pitch, on, off, velocity) in enumerate(zip(pitches, on_ticks, off_ticks, velocities, strict=True)):
        duration = (off - on) / TICKS_PER_SECOND
        start = on / TICKS_PER_SECOND
        events.append((int(on), _CONTROL, mido.Message("pitchwheel", pitch=0)))
        shape, peak = _note_shape(duration, context.direction[i], bool(context.phrase_end[i]), rng)
        taper = rng.uniform(*TAPER_SECONDS)
        times, values = _expression_curve(duration, level + rng.normal(0, 3), shape, peak, depth, taper)
        last = -1
        for t, v in zip(times, np.clip(np.round(values), 0, 127).astype(int), strict=True):
            if v != last:
                events.append(
                    (
                        max(tick(start + t), int(on)),
                        _CONTROL,
                        mido.Message("control_change", control=11, value=int(v)),
                    )
                )
                last = v
        vibrato = rng.random() < habit.probability * (1.0 if duration >= 0.45 else 0.3 if duration >= 0.3 else 0.0)
        events.append((int(on), _CONTROL, mido.Message("control_change", control=1, value=0)))  # no soundfont LFO
        if vibrato:
            bend_times, semitones = _vibrato_bend(duration, vibrato_rate, vibrato_depth * rng.uniform(0.8, 1.2), rng)
            for t, s in zip(bend_times, semitones, strict=True):
                value = int(np.clip(round(s / PITCH_BEND_RANGE * 8191), -8192, 8191))
                events.append((tick(start + t), _CONTROL, mido.Message("pitchwheel", pitch=value)))
        events.append((int(on), _NOTE_ON, mido.Message("note_on", note=int(pitch), velocity=int(velocity))))
        events.append((int(off), _NOTE_OFF, mido.Message("note_off", note=int(pitch), velocity=0)))

    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=TEMPO_US, time=0)])
    now = 0
    for at, _, message in events:
        track.append(message.copy(time=int(at - now)))
        now = at
    track.append(mido.MetaMessage("end_of_track", time=0))
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    notes = np.stack(
        [
            np.asarray(pitches, float),
            on_ticks / TICKS_PER_SECOND,
            off_ticks / TICKS_PER_SECOND,
            velocities.astype(float),
        ],
        axis=1,
    )
    return midi, notes, now / TICKS_PER_SECOND


def perform_line(line: SourceLine, program: int, low: int, high: int, rng: np.random.Generator) -> list[PerformedLine]:
    """Perform a line for one instrument and cut it into 10-60 s chunks, each with its own MIDI file."""
    pitches = fit_range(line.pitches, low, high)
    onsets, offsets = perform_timing(line, rng)
    performed = []
    for index, (a, b) in enumerate(chunk_bounds(onsets, offsets, rng)):
        shift = onsets[a] - LEAD_IN_SECONDS
        midi, notes, seconds = build_midi(pitches[a:b], onsets[a:b] - shift, offsets[a:b] - shift, program, rng)
        performed.append(PerformedLine(f"{line.name}_{index}", line.piece_id, line.source, midi, notes, seconds))
    return performed
