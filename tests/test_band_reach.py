"""How far a brightness band reaches past its pitches: decided against the source soundfont, on the bundled flute."""

from __future__ import annotations

import numpy as np

from readdsp.core.control_bands import PitchBand
from readdsp.core.render import Renderer
from readdsp.training.band_reach import MIN_GAIN_DB, fit_band_reach, reach_pitches


def test_the_pitches_tried_lie_past_each_end_within_the_range() -> None:
    band = PitchBand(np.array([61.0, 89.0]), np.array([0.2, 0.1]), np.array([0.3, 0.11]))
    assert reach_pitches(band, (60, 98), "below") == [60]
    assert reach_pitches(band, (60, 98), "above") == [90, 92, 94, 96, 98]
    assert reach_pitches(band, (61, 89), "above") == []


def test_the_bundled_flute_s_top_notes_are_held_to_its_band_because_that_sounds_like_its_source() -> None:
    """Above the band the bundled flute's lone notes come out bright and airy (its generator's length-as-brightness);
    held at the band's top bounds they come several dB closer to MuseScore_General, which it was trained on."""
    renderer = Renderer.load()
    flute = renderer.model.brightness_band["flute"].holding(False, False)
    renderer.model.brightness_band = {"flute": flute}
    bands, report = fit_band_reach(renderer, "musescore")
    above = report["flute"]["above"]
    log_mel, envelope = (u - h for h, u in zip(above["held_db"], above["unbounded_db"], strict=True))
    assert log_mel >= 2 * MIN_GAIN_DB and envelope >= 8 * MIN_GAIN_DB  # measured: 0.67 and 5.89 dB closer
    assert above["holds"] and bands["flute"].hold_above
    assert renderer.model.brightness_band == {"flute": flute}  # the fit leaves the model's bands as they were
