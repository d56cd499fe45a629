"""Fit each instrument's factor on its generated vibrato: renders then move in pitch as much as real players' notes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from readdsp.core.bundle import MAX_VIBRATO_SCALE
from readdsp.core.programs import INSTRUMENTS
from readdsp.core.render import Renderer
from readdsp.training.audio_measures import within_note_pitch_deviation
from readdsp.training.real_recordings import RATE, Recording, dataset_recordings, evenly_spaced
from readdsp.training.reference_renders import one_part, ours_render

#: The fitted factor's resolution.
SCALE_STEP = 0.05


def fit_monotone(spread_at: Callable[[float], float], target: float, high: float = MAX_VIBRATO_SCALE) -> float:
    """The factor in [0, high] (to SCALE_STEP) at which `spread_at`, rising with it, comes nearest `target`."""
    low_value, high_value = spread_at(0.0), spread_at(high)
    if target <= low_value:
        return 0.0
    if target >= high_value:
        return high
    low = 0.0
    while high - low > SCALE_STEP:
        middle = (low + high) / 2
        if spread_at(middle) < target:
            low = middle
        else:
            high = middle
    return round(round((low + high) / 2 / SCALE_STEP) * SCALE_STEP, 2)


def median_spread(renderer: Renderer, recordings: list[Recording], scale: float, seed: int = 0) -> float:
    """Median over the recordings of our render's within-note pitch spread (cents), with the generated vibrato
    times `scale`."""
    spreads = []
    for recording in recordings:
        performance = renderer.generate_expression(
            one_part(recording.notes, INSTRUMENTS[recording.program_instrument].program)
        )
        for note in performance.parts[0].notes:
            note.set_controls(vibrato=min(note.controls()["vibrato"] * scale, 1.0))
        spread = within_note_pitch_deviation(ours_render(renderer, performance, RATE, seed), RATE, recording.notes)
        if spread is not None:
            spreads.append(spread)
    return float(np.median(spreads)) if spreads else float("nan")


def fit_vibrato_scales(renderer: Renderer, dataset_dir: Path, seed: int = 0, per_instrument: int = 16) -> dict:
    """Per instrument of the dataset that the bundle plays (up to `per_instrument` notes each, evenly spaced in
    pitch): the real notes' median within-note pitch spread, ours before (the Expression Generator's vibrato as it
    is) and after, and the fitted factor. The renderer's model must hold no factors yet (`vibrato_scale` empty)."""
    if any(scale != 1.0 for scale in renderer.model.vibrato_scale.values()):
        raise ValueError("fit on the bundle's model without vibrato factors")
    everything = [r for split in ("train", "validation", "test") for r in dataset_recordings(dataset_dir, split)]
    fitted = {}
    for instrument in sorted({r.instrument for r in everything} & set(renderer.instruments)):
        mine = sorted((r for r in everything if r.instrument == instrument), key=lambda r: r.notes[0].pitch)
        mine = evenly_spaced(mine, per_instrument)
        real = [s for s in (within_note_pitch_deviation(r.audio, RATE, r.notes) for r in mine) if s is not None]
        if not real:  # no note held a steady enough pitch to measure: nothing to fit to
            continue
        target = float(np.median(real))
        scale = fit_monotone(lambda s, mine=mine: median_spread(renderer, mine, s, seed), target)
        fitted[instrument] = {
            "notes": len(mine),
            "real_cents": round(target, 2),
            "ours_before_cents": round(median_spread(renderer, mine, 1.0, seed), 2),
            "ours_after_cents": round(median_spread(renderer, mine, scale, seed), 2),
            "scale": scale,
        }
    return fitted
