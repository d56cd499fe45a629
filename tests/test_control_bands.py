"""The per-pitch brightness band: read from the sidecar, applied to one instrument's generated brightness, fitted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from readdsp.core.bundle import load_bundle, sidecar_path, write_sidecar
from readdsp.core.control_bands import PitchBand, brightness_bands, parse_band
from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import CONTROL_NAMES, Note, Part, Performance
from readdsp.core.render import Renderer
from readdsp.training.band_fit import MIN_NOTES, pitch_band

BRIGHTNESS = CONTROL_NAMES.index("brightness")


def generated(renderer: Renderer) -> dict[str, np.ndarray]:
    """Each part's generated controls for a rising line and a lone held note."""

    def line() -> list[Note]:
        held = [Note(84, 3.6, 6.0, 90), Note(96, 6.2, 8.0, 90)]
        return [Note(60 + 3 * i, 0.6 * i, 0.6 * i + 0.5, 80) for i in range(6)] + held

    parts = [Part("v", 40, instrument="violin", notes=line()), Part("c", 42, instrument="cello", notes=line())]
    performance = Performance(parts)
    return {p.name: np.array([n.expression for n in p.notes]) for p in renderer.generate_expression(performance).parts}


def test_the_sidecar_band_bounds_one_instrument_s_generated_brightness(random_bundle, tmp_path) -> None:
    copy = tmp_path / random_bundle.name
    copy.write_bytes(random_bundle.read_bytes())
    plain = generated(Renderer.load(copy))
    assert brightness_bands(load_bundle(copy)) == {}
    band = {"pitches": [60, 72, 84], "low": [0.5, 0.3, 0.1], "high": [0.6, 0.35, 0.1]}
    write_sidecar(copy, {"brightness_band": {"violin": band}})
    bounded = generated(Renderer.load(copy))
    pitches = 60 + 3 * np.arange(6)
    low, high = np.interp(pitches, band["pitches"], band["low"]), np.interp(pitches, band["pitches"], band["high"])
    assert np.allclose(bounded["v"][:6, BRIGHTNESS], np.clip(plain["v"][:6, BRIGHTNESS], low, high), atol=1e-6)
    assert bounded["v"][6, BRIGHTNESS] == pytest.approx(0.1)  # the held C6, at the band's end
    assert bounded["v"][7, BRIGHTNESS] == plain["v"][7, BRIGHTNESS]  # a C7 lies beyond it: no data, no bound
    assert not np.allclose(bounded["v"][:, BRIGHTNESS], plain["v"][:, BRIGHTNESS])  # the band did bound something
    others = [i for i in range(len(CONTROL_NAMES)) if i != BRIGHTNESS]
    assert np.array_equal(bounded["v"][:, others], plain["v"][:, others])  # the other five controls are the network's
    assert np.array_equal(bounded["c"], plain["c"])  # an instrument without a band is not bounded

    write_sidecar(copy, {"brightness_band": {"violin": band | {"hold_above": True}}})
    held = generated(Renderer.load(copy))
    assert held["v"][7, BRIGHTNESS] == pytest.approx(0.1)  # the C7, held at the band's top end
    assert np.array_equal(held["v"][:7], bounded["v"][:7])


def test_a_band_holds_each_end_only_where_it_says() -> None:
    band = PitchBand(np.array([60.0, 72.0]), np.array([0.4, 0.2]), np.array([0.5, 0.3]))
    pitches, values = np.array([48.0, 66.0, 84.0]), np.array([0.9, 0.9, 0.9])
    assert band.clip(pitches, values).tolist() == pytest.approx([0.9, 0.4, 0.9])
    assert band.holding(True, False).clip(pitches, values).tolist() == pytest.approx([0.5, 0.4, 0.9])
    assert band.holding(False, True).clip(pitches, values).tolist() == pytest.approx([0.9, 0.4, 0.3])
    assert parse_band(band.holding(True, False).to_dict(), "b", Path("x.json")).hold_below


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ([0.1], "must hold equally long, non-empty lists"),
        ({"pitches": [60, 72], "low": [0.1], "high": [0.2, 0.3]}, "must hold equally long, non-empty lists"),
        ({"pitches": [60], "low": [float("nan")], "high": [0.2]}, "finite numbers only"),
        ({"pitches": [60], "low": [True], "high": [0.2]}, "finite numbers only"),
        ({"pitches": [72, 60], "low": [0.1, 0.1], "high": [0.2, 0.2]}, "pitches must rise within 0..127"),
        ({"pitches": [60, 130], "low": [0.1, 0.1], "high": [0.2, 0.2]}, "pitches must rise within 0..127"),
        ({"pitches": [60], "low": [0.3], "high": [0.2]}, "each bound must lie in 0..1 with low <= high"),
        ({"pitches": [60], "low": [0.3], "high": [1.5]}, "each bound must lie in 0..1 with low <= high"),
        ({"pitches": [60], "low": [0.1], "high": [0.2], "hold_above": 1}, "must be true or false"),
    ],
)
def test_a_bad_band_is_a_one_line_error_naming_the_sidecar(random_bundle, tmp_path, entry, problem) -> None:
    copy = tmp_path / random_bundle.name
    copy.write_bytes(random_bundle.read_bytes())
    sidecar_path(copy).write_text(json.dumps({"brightness_band": {"violin": entry}}))
    with pytest.raises(ReaDDSPError, match=problem) as caught:
        Renderer.load(copy)
    assert "brightness_band for 'violin'" in str(caught.value) and str(sidecar_path(copy)) in str(caught.value)


def test_the_fitted_band_spans_the_quantiles_of_the_notes_near_each_pitch() -> None:
    rng = np.random.default_rng(0)
    pitches = np.repeat(np.arange(60, 73), 40)
    values = 0.5 - 0.02 * (pitches - 60) + rng.uniform(-0.05, 0.05, len(pitches))
    sparse = np.array([90] * (MIN_NOTES - 1))  # too few notes within a semitone of 89..91 to say anything
    band = pitch_band(np.concatenate([pitches, sparse]), np.concatenate([values, np.full(len(sparse), 0.9)]))
    assert band.pitches.tolist() == list(range(59, 74))  # a semitone past the notes, from their neighbours
    assert np.all(band.low < band.high)
    centre = 0.5 - 0.02 * (band.pitches[1:-1] - 60)
    assert np.all(np.abs((band.low + band.high)[1:-1] / 2 - centre) < 0.02)
    inside = (band.pitches >= 61) & (band.pitches <= 71)  # with notes a semitone either side
    width = (band.high - band.low)[inside]
    assert np.all(np.abs(width - 0.11) < 0.02)  # +-0.05 of jitter on a slope of +-0.02 over the three pitches
    assert pitch_band(sparse, np.full(len(sparse), 0.9)) is None
