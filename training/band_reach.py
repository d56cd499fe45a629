"""Decide, per instrument and side, whether its brightness band holds its end bounds beyond the pitches it covers."""

from __future__ import annotations

import numpy as np

from readdsp.core.control_bands import PitchBand
from readdsp.core.performance import Note
from readdsp.core.programs import INSTRUMENTS
from readdsp.core.render import Renderer
from readdsp.training.audio_measures import spectral_envelope_distance
from readdsp.training.real_excerpts import mel_distance
from readdsp.training.reference_renders import one_part, ours_render, soundfont_render

RATE = 48000
#: Pitches tried past each end of a band: 1, 3, 5 ... semitones past it, up to REACH_SEMITONES, within the range.
REACH_SEMITONES = 12
REACH_STEP = 2
#: Holding must bring ours this much closer to the source (dB) on both timbre distances, log-mel and spectral
#: envelope (the envelope alone misses a note sunk into noise); no data and no clear gain leave a side unbounded.
MIN_GAIN_DB = 0.25
#: A lone held note at two dynamics, and a run of short notes: where length-as-brightness bites, and where it does not.
LONE_NOTE_S = 1.5
LONE_VELOCITIES = (60, 100)
RUN_NOTES, RUN_NOTE_S, RUN_VELOCITY = 4, 0.25, 80


def reach_pitches(band: PitchBand, pitch_range: tuple[int, int], side: str) -> list[int]:
    """The pitches tried beyond the band's `side` ("below" or "above") end, within the instrument's range."""
    low, high = pitch_range
    if side == "below":
        first = int(band.pitches[0])
        return [p for p in range(first - 1, first - REACH_SEMITONES - 1, -REACH_STEP) if p >= low]
    last = int(band.pitches[-1])
    return [p for p in range(last + 1, last + REACH_SEMITONES + 1, REACH_STEP) if p <= high]


def probe_notes(pitch: int) -> list[list[Note]]:
    """The note lists played at one pitch: lone held notes, then a run of short ones."""
    lone = [[Note(pitch, 0.0, LONE_NOTE_S, velocity)] for velocity in LONE_VELOCITIES]
    run = [Note(pitch, i * RUN_NOTE_S * 1.2, (i * 1.2 + 1) * RUN_NOTE_S, RUN_VELOCITY) for i in range(RUN_NOTES)]
    return [*lone, run]


def source_distances(
    renderer: Renderer, instrument: str, pitches: list[int], source: str, seed: int, bands: dict[bool, PitchBand]
) -> dict[bool, tuple[float, float]]:
    """For each of `bands` (keyed by whether it holds), the mean log-mel and spectral-envelope distance (dB) of ours,
    rendered with that band, from the source soundfont over the probes at `pitches` (the source rendered once)."""
    program = INSTRUMENTS[instrument].program
    distances: dict[bool, list[tuple[float, float]]] = {hold: [] for hold in bands}
    for pitch in pitches:
        for notes in probe_notes(pitch):
            performance = one_part(notes, program, instrument=instrument)
            theirs = soundfont_render(performance, source, RATE)
            for hold, band in bands.items():
                renderer.model.brightness_band[instrument] = band
                ours = ours_render(renderer, performance, RATE, seed)
                ours = np.pad(ours, (0, max(0, len(theirs) - len(ours))))[: len(theirs)]
                distances[hold].append(
                    (mel_distance(theirs, ours, RATE), spectral_envelope_distance(theirs, ours, RATE))
                )
    return {hold: tuple(float(d) for d in np.mean(rows, axis=0)) for hold, rows in distances.items()}


def fit_band_reach(renderer: Renderer, source: str, seed: int = 0) -> tuple[dict[str, PitchBand], dict]:
    """Each banded instrument's band (the renderer's model's `brightness_band`), each side holding its end bounds
    beyond its pitches only where that brings ours closer to the source soundfont there by MIN_GAIN_DB or more in both
    mean log-mel and mean spectral-envelope distance over `probe_notes` at `reach_pitches`; and, per instrument and
    side, those pitches and the distances.

    The band's data ends where the source's lines did; beyond, the Expression Generator's brightness may suit the
    synthesis there or not (a flute's top notes come out airy and bright, a clarinet's held at its band's end sink
    into noise), so the source decides. The model's bands are left as they were."""
    model = renderer.model
    kept = dict(model.brightness_band)
    fitted, report = {}, {}
    try:
        for name, band in kept.items():
            if name not in INSTRUMENTS:
                fitted[name] = band
                continue
            holds = {"below": False, "above": False}
            report[name] = {}
            for side in holds:
                pitches = reach_pitches(band, INSTRUMENTS[name].pitch_range, side)
                if not pitches:
                    continue
                trials = {hold: holds | {side: hold} for hold in (False, True)}
                variants = {hold: band.holding(t["below"], t["above"]) for hold, t in trials.items()}
                distance = source_distances(renderer, name, pitches, source, seed, variants)
                holds[side] = all(h <= u - MIN_GAIN_DB for h, u in zip(distance[True], distance[False], strict=True))
                report[name][side] = {
                    "pitches": pitches,
                    "unbounded_db": [round(d, 2) for d in distance[False]],
                    "held_db": [round(d, 2) for d in distance[True]],
                    "holds": holds[side],
                }
            fitted[name] = band.holding(holds["below"], holds["above"])
    finally:
        model.brightness_band = kept
    return fitted, report
