"""Fit each instrument's brightness band (`core.control_bands`) from the notes of a run's annotated training split."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from readdsp.core.bundle import Bundle, calibration_gains_db, require_family, write_sidecar
from readdsp.core.control_bands import SIDECAR_KEY, PitchBand
from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import CONTROL_NAMES
from readdsp.core.render import Renderer, model_for
from readdsp.datasets.cache import open_dataset
from readdsp.training.band_reach import MIN_GAIN_DB, fit_band_reach
from readdsp.training.expression_generator import load_sequences
from readdsp.training.reference_renders import source_soundfont

BRIGHTNESS_COLUMN = CONTROL_NAMES.index("brightness")
#: The band at a pitch spans these quantiles of the notes within HALF_WIDTH semitones of it...
QUANTILES = (0.05, 0.95)
HALF_WIDTH = 1
#: ...where there are at least this many; pitches beyond those that have them get no band.
MIN_NOTES = 10


def fit_brightness_bands(dataset_dir: Path, annotations_dir: Path, split: str = "train") -> dict[str, PitchBand]:
    """Per instrument, the band of extracted brightness its notes held at each pitch. The Expression Generator
    learns brightness from these notes, but for notes unlike its lines (a lone held note) it can leave what any
    note at that pitch ever had: the band keeps it to what the source played there."""
    dataset = open_dataset(dataset_dir)
    pitches: dict[int, list[np.ndarray]] = {}
    values: dict[int, list[np.ndarray]] = {}
    for seq in load_sequences(dataset_dir, annotations_dir, split):
        notes = seq.pitch > 0
        pitches.setdefault(seq.instrument_id, []).append(seq.pitch[notes])
        values.setdefault(seq.instrument_id, []).append(seq.target[notes, BRIGHTNESS_COLUMN])
    bands = {}
    for instrument_id, parts in pitches.items():
        band = pitch_band(np.concatenate(parts), np.concatenate(values[instrument_id]))
        if band is not None:
            bands[dataset.instruments[instrument_id]] = band
    return bands


def pitch_band(pitches: np.ndarray, values: np.ndarray) -> PitchBand | None:
    """The QUANTILES of `values` around each pitch with MIN_NOTES notes within HALF_WIDTH; None if no pitch has."""
    rows = []
    for pitch in range(int(pitches.min()) - HALF_WIDTH, int(pitches.max()) + HALF_WIDTH + 1):
        near = values[np.abs(pitches - pitch) <= HALF_WIDTH]
        if len(near) >= MIN_NOTES:
            low, high = np.quantile(near, QUANTILES)
            rows.append((pitch, round(float(low), 4), round(float(high), 4)))
    if not rows:
        return None
    columns = np.array(rows, float).T
    return PitchBand(columns[0], columns[1], columns[2])


def write_brightness_bands(bundle: Bundle, dataset_dir: Path, annotations_dir: Path) -> dict[str, PitchBand]:
    """Fit the bands on the dataset's annotated training split, each side's reach beyond its pitches against the
    bundle's source soundfont (`band_reach`), and merge those of the bundle's instruments into its sidecar
    (atomically); returns them (none, and nothing written, when no pitch of theirs has MIN_NOTES notes)."""
    require_family(bundle, "midi-ddsp", "brightness bands (an Expression Generator's controls)")
    if not annotations_dir.is_dir():
        raise ReaDDSPError("no annotations here; run `readdsp train annotate` on the dataset first", annotations_dir)
    fitted = fit_brightness_bands(dataset_dir, annotations_dir)
    bands = {name: band for name, band in fitted.items() if name in bundle.instruments}
    if bands:
        model = model_for(bundle)
        model.brightness_band = bands
        renderer = Renderer(model, bundle.path, calibration_gains_db(bundle))
        bands, reach = fit_band_reach(renderer, source_soundfont(bundle.config))
        summary = band_summary(bands, dataset_dir) | {"reach": reach, "reach_min_gain_db": MIN_GAIN_DB}
        metrics = {**bundle.sidecar.get("metrics", {}), SIDECAR_KEY: summary}
        write_sidecar(
            bundle.path, {SIDECAR_KEY: {name: band.to_dict() for name, band in bands.items()}, "metrics": metrics}
        )
    return bands


def band_summary(bands: dict[str, PitchBand], dataset_dir: Path) -> dict:
    """What the model card reports of the bands: where they were fitted and, per instrument, the pitches they cover
    and their median width."""
    return {
        "dataset": dataset_dir.name,
        "quantiles": list(QUANTILES),
        "instruments": {
            name: {
                "pitches": [int(band.pitches[0]), int(band.pitches[-1])],
                "median_width": round(float(np.median(band.high - band.low)), 3),
            }
            for name, band in bands.items()
        },
    }
