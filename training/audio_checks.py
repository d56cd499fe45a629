"""Audio-domain checks of a bundle: test phrases per instrument rendered by ours and by FluidSynth, measured alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from readdsp.core.performance import Note, Performance
from readdsp.core.programs import INSTRUMENTS
from readdsp.core.render import Renderer
from readdsp.training.audio_measures import audio_checks
from readdsp.training.real_excerpts import mel_distance
from readdsp.training.reference_renders import (
    one_part,
    ours_render,
    program_of,
    soundfont_label,
    soundfont_render,
)

RATE = 44100
#: The test phrase: scale steps (semitones above its base), note lengths (s), velocities, and where rests fall.
STEPS = (0, 2, 4, 5, 7, 9, 7, 5, 4, 2, 0, 4, 7, 12, 11, 9, 7, 5, 4, 2, 0, -1, 0, 7)
LENGTHS = (0.25, 0.5, 0.2, 0.75, 0.3, 1.0, 0.4, 0.15)
VELOCITIES = (60, 80, 100, 112, 70, 90, 45, 120)
REST_EVERY = 4  # every 4th note is followed by a rest long enough to read its release
REST_S = 0.7


def test_phrase(instrument: str) -> list[Note]:
    """A deterministic line in the lower half of the instrument's range: legato runs of mixed lengths and
    velocities, with a rest after every REST_EVERY-th note (never from any training corpus)."""
    spec = INSTRUMENTS[instrument]
    base = spec.low + (spec.high - spec.low) // 4
    notes, t = [], 0.1
    for i, step in enumerate(STEPS):
        length = LENGTHS[i % len(LENGTHS)]
        notes.append(Note(min(base + step, spec.high), t, t + length, VELOCITIES[i % len(VELOCITIES)]))
        t += length + (REST_S if (i + 1) % REST_EVERY == 0 else 0.0)
    return notes


def check_instrument(renderer: Renderer, instrument: str, source_soundfont: str, seed: int = 0) -> dict:
    """Ours and FluidSynth (FluidR3_GM, dry) on the test phrase, measured alike; ours' mel distance to the bundle's
    source soundfont (imitation) beside FluidR3_GM's."""
    notes = test_phrase(instrument)
    perf = one_part(notes, program_of(instrument), instrument)
    ours = ours_render(renderer, perf, RATE, seed)
    fluid = soundfont_render(perf, "fluidr3", RATE)
    source = (
        fluid if soundfont_label(source_soundfont) == "FluidR3_GM" else soundfont_render(perf, source_soundfont, RATE)
    )
    return {
        "notes": len(notes),
        "ours": audio_checks(ours, RATE, notes)
        | {"mel_distance_to_source_db": round(mel_distance(source, ours, RATE), 3)},
        "fluidsynth": audio_checks(fluid, RATE, notes)
        | {"mel_distance_to_source_db": round(mel_distance(source, fluid, RATE), 3)},
    }


def check_bundle(renderer: Renderer, source_soundfont: str, seed: int = 0) -> dict:
    """`check_instrument` for every instrument of the renderer's bundle, plus an overall row (pooled shares, mean
    levels) and the source soundfont's name."""
    rows = {name: check_instrument(renderer, name, source_soundfont, seed) for name in renderer.instruments}
    return {"source_soundfont": soundfont_label(source_soundfont), "instruments": rows, "overall": _overall(rows)}


def example_performance(example) -> Performance:
    """A cached dataset example's MIDI (notes, CC lanes, pitch bend) as a one-part performance."""
    perf = one_part(example.note_list(), program_of(example.instrument), example.instrument)
    part = perf.parts[0]
    part.cc = {int(c): [(float(t), int(round(v))) for t, v in events] for c, events in example.cc.items()}
    part.pitch_bend = [(float(t), float(v)) for t, v in example.pitch_bend]
    return perf


def imitation_on_dataset(renderer: Renderer, dataset_dir: Path, split: str = "test", max_examples: int = 24) -> dict:
    """Mel distance (dB) to the dataset's own audio (the training source: a dry soundfont render of the same MIDI)
    for ours and for FluidSynth + FluidR3_GM, per instrument, over up to `max_examples` examples of `split`
    (spread over the split)."""
    from readdsp.datasets.cache import open_dataset

    dataset = open_dataset(dataset_dir)
    ids = dataset.ids(split)
    rows: dict[str, dict[str, list[float]]] = {}
    for example_id in ids[:: max(len(ids) // max_examples, 1)][:max_examples]:
        example = dataset.load_example(example_id)
        if example.instrument not in renderer.instruments:
            continue
        perf = example_performance(example)
        sr = example.sample_rate
        row = rows.setdefault(example.instrument, {"ours": [], "fluidsynth": []})
        row["ours"].append(mel_distance(example.audio, ours_render(renderer, perf, sr), sr))
        row["fluidsynth"].append(mel_distance(example.audio, soundfont_render(perf, "fluidr3", sr), sr))
    table = {
        name: {"examples": len(r["ours"]), **{k: round(float(np.mean(v)), 3) for k, v in r.items()}}
        for name, r in rows.items()
    }
    if table:
        table["mean"] = {k: round(float(np.mean([r[k] for r in table.values()])), 3) for k in ("ours", "fluidsynth")}
    return table


def _overall(rows: dict) -> dict:
    out = {}
    for who in ("ours", "fluidsynth"):
        r = [row[who] for row in rows.values()]
        notes = sum(x["pitch"]["notes"] for x in r)
        within = sum((x["pitch"]["within_25_cents"] or 0.0) * x["pitch"]["notes"] for x in r)
        releases = [x["release"]["median_drop_db"] for x in r if x["release"]["median_drop_db"] is not None]
        lufs = [x["lufs"] for x in r if x["lufs"] is not None]
        out[who] = {
            "pitch_within_25_cents": round(within / notes, 4) if notes else None,
            "onset_median_error_ms": _median_of(r, "onset_median_error_ms"),
            "pitch_arrival_median_error_ms": _median_of(r, "pitch_arrival_median_error_ms"),
            "release_median_drop_db": round(float(np.median(releases)), 2) if releases else None,
            "release_share_over_20_db": _pooled_share(r),
            "lufs_spread_db": round(max(lufs) - min(lufs), 2) if lufs else None,
            "peak_dbfs_max": max(x["peak_dbfs"] for x in r),
            "mel_distance_to_source_db": round(float(np.mean([x["mel_distance_to_source_db"] for x in r])), 3),
        }
    return out


def _median_of(rows: list[dict], key: str) -> float | None:
    values = [x[key] for x in rows if x[key] is not None]
    return round(float(np.median(values)), 2) if values else None


def _pooled_share(rows: list[dict]) -> float | None:
    total = sum(x["release"]["notes"] for x in rows)
    hits = sum((x["release"]["share_over_20_db"] or 0.0) * x["release"]["notes"] for x in rows)
    return round(hits / total, 4) if total else None
