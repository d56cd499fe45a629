"""The bundled model's vibrato control: 0 holds the pitch straight, larger values sing wider (generated f0)."""

from __future__ import annotations

import numpy as np
import pytest

from readdsp.core.performance import Note
from readdsp.core.renderer_factory import load_renderer
from readdsp.core.units import midi_to_hz
from readdsp.training.audio_measures import robust_spread

NOTE_S = 2.0
PITCHES = {"violin": 72, "cello": 50, "flute": 72, "clarinet": 58, "trumpet": 62, "saxophone": 60}


@pytest.fixture(scope="module")
def model():
    """The bundled model without the player's wander (core/synth/pitch_drift.py, tested in test_pitch_drift.py):
    these tests measure what the Synthesis Generator's vibrato control does."""
    model = load_renderer().model
    drift, model.pitch_drift_cents = model.pitch_drift_cents, 0.0
    yield model
    model.pitch_drift_cents = drift


def f0_spread_cents(model, instrument: str, vibrato: float, seed: int) -> float:
    """1.4826 x MAD of the generated f0 (cents) over a held note's middle, with its vibrato control set."""
    pitch = PITCHES[instrument]
    expression = model.generate_expression([Note(pitch, 0.0, NOTE_S, 80)], instrument)[0].copy()
    expression[2] = vibrato
    frames = int((NOTE_S + 0.5) * 250)
    controls = model.generate_controls([[Note(pitch, 0.0, NOTE_S, 80, expression)]], [frames], [instrument], [seed])
    f0 = controls[0].f0_hz[0, 15 : int(NOTE_S * 250) - 8].numpy()
    return robust_spread(1200 * np.log2(f0 / midi_to_hz(pitch)))


@pytest.mark.parametrize("instrument", sorted(PITCHES))
def test_vibrato_zero_holds_the_pitch_and_vibrato_sings_when_asked(model, instrument: str) -> None:
    straight = np.array([f0_spread_cents(model, instrument, 0.0, seed) for seed in range(6)])
    singing = np.mean([f0_spread_cents(model, instrument, 0.9, seed) for seed in range(6)])
    # The nucleus sampler lets a rare seed sing anyway: 3 of 1,440 random vibrato-0 notes (0.2%) wandered, by
    # 2.5-8 cents; a control that did nothing over its bottom third wandered 8-10 cents on every seed.
    assert np.sum(straight > 2.5) <= 1, f"{instrument}: vibrato-0 notes wander {straight.round(1)} cents"
    assert straight.max() < 10.0, f"{instrument}: a vibrato-0 note wanders {straight.max():.1f} cents"
    assert singing > 15.0, f"{instrument}: vibrato 0.9 sings only {singing:.1f} cents"
