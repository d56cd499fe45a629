"""Grey-box effect models: waveshaper+FIR recovers a known Hammerstein system, pre-FIR+waveshaper+FIR a known
Wiener-Hammerstein one; the chorus fit recovers pedalboard's Chorus LFO; the spec's `nam` field is checked."""

from __future__ import annotations

import json

import numpy as np
import pedalboard
import pytest

from readdsp.core.effects.chorus_dsp import JuceChorusModel
from readdsp.core.effects.esr import esr
from readdsp.core.effects.fir_stream import apply_fir
from readdsp.core.effects.model_file import load_model, save_model
from readdsp.core.effects.shaper import apply_shaper
from readdsp.core.effects.wiener_hammerstein import apply_wiener_hammerstein
from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.effects.capture import capture_signal
from readdsp.datasets.effects.signals import seed_signals
from readdsp.training.effects.chorus_fit import fit_chorus
from readdsp.training.effects.shaper_fit import fit_shaper_fir
from readdsp.training.effects.wiener_hammerstein_fit import fit_wiener_hammerstein

SR = 48000


def _material(seconds: float, seed: int) -> np.ndarray:
    capture = capture_signal(SR, seed).audio
    rest = seed_signals(max(0.0, seconds - len(capture) / SR), SR, seed)
    return np.concatenate([capture, rest])[: int(seconds * SR)].astype(np.float32)


def test_shaper_fir_recovers_tanh_then_filter():
    x = _material(12.0, 0)
    taps_true = np.array([1.0, 0.5, -0.2, 0.1])
    y = apply_fir(taps_true, 0.25 * np.tanh(10 * x))
    knots, values, taps = fit_shaper_fir(x, y, SR, fir_length=8, rounds=3)
    x_test = _material(12.0, 1)
    pred = apply_fir(taps, apply_shaper(knots, values, x_test))
    assert esr(pred, apply_fir(taps_true, 0.25 * np.tanh(10 * x_test))) < 1e-4
    np.testing.assert_allclose(taps[:4] / taps[0], taps_true, atol=0.01)
    assert np.max(np.abs(taps[4:])) < 0.01
    # the curve is tanh-shaped: odd, saturating, steep at zero
    gain = taps[0]
    assert gain * apply_shaper(knots, values, np.array([0.5]))[0] == pytest.approx(0.25 * np.tanh(5), rel=0.02)
    assert gain * apply_shaper(knots, values, np.array([-0.01]))[0] == pytest.approx(0.25 * np.tanh(-0.1), rel=0.02)


def _noise_at_levels(seconds: float, seed: int) -> np.ndarray:
    """White noise in 0.25 s bursts whose RMS steps from -40 to -6 dB: broadband at every drive level."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    levels = np.repeat(rng.permutation(np.logspace(-2, -0.3, 8)), SR // 4)
    return (rng.standard_normal(n) * np.resize(levels, n)).astype(np.float32)


def test_wiener_hammerstein_recovers_low_cut_then_tanh_then_filter():
    pre_true = np.array([1.0, -0.6, -0.3])  # a low cut before the curve: the Hammerstein model can't express it
    post_true = np.array([1.0, 0.5, -0.2, 0.1])

    def chain(x: np.ndarray) -> np.ndarray:
        return apply_fir(post_true, 0.25 * np.tanh(8 * apply_fir(pre_true, x)))

    x = _noise_at_levels(2.0, 4)
    pre, knots, values, post = fit_wiener_hammerstein(x, chain(x), SR, 8, 8, max_steps=10, max_seconds=120)
    np.testing.assert_allclose(pre[:3], pre_true, atol=0.03)
    assert np.max(np.abs(pre[3:])) < 0.03
    np.testing.assert_allclose(post[:4] / post[0], post_true, atol=0.03)
    x_test = _material(10.0, 5)
    wiener_hammerstein_esr = esr(apply_wiener_hammerstein(pre, knots, values, post, x_test), chain(x_test))
    k, v, taps = fit_shaper_fir(x, chain(x), SR, fir_length=8)
    hammerstein_esr = esr(apply_fir(taps, apply_shaper(k, v, x_test)), chain(x_test))
    assert wiener_hammerstein_esr < 1e-3 and wiener_hammerstein_esr < 0.02 * hammerstein_esr


def test_chorus_fit_recovers_pedalboard_chorus(tmp_path):
    chorus = dict(rate_hz=0.9, depth=0.3, centre_delay_ms=7.0, feedback=0.2, mix=0.4)

    def render(x: np.ndarray) -> np.ndarray:
        board = pedalboard.Pedalboard([pedalboard.Chorus(**chorus)])
        return board(x[None], SR, reset=True)[0]

    x = _material(12.0, 2)
    p = fit_chorus(x, render(x), SR, max_seconds=120)
    assert p.rate_hz == pytest.approx(0.9, rel=2e-3)
    assert p.centre == pytest.approx(7.0e-3 * SR, abs=1.0)
    assert p.swing == pytest.approx(0.3 * 10e-3 * SR, abs=1.0)  # JUCE: 20 ms * depth / 2
    assert p.feedback == pytest.approx(0.2, abs=0.02) and p.wet == pytest.approx(0.4, abs=0.02)
    save_model(tmp_path / "c.safetensors", JuceChorusModel(SR, p))
    loaded = load_model(tmp_path / "c.safetensors")
    x_test = _material(12.0, 3)
    assert esr(loaded.process(x_test, SR), render(x_test)) < 0.02  # issue target: 0.1
    assert loaded.params.rate_hz == pytest.approx(p.rate_hz)


def test_nam_metadata_from_spec_is_checked_and_merged():
    pytest.importorskip("nam")
    from readdsp.training.effects.nam_train import nam_user_metadata, with_user_metadata

    user = nam_user_metadata({"gear_type": "pedal", "tone_type": "fuzz", "name": "Fuzz"}, "spec.json")
    assert user == {"gear_type": "pedal", "tone_type": "fuzz", "name": "Fuzz"}
    merged = json.loads(with_user_metadata(json.dumps({"metadata": {"loudness": -20.0}, "weights": []}), user))
    assert merged["metadata"] == {"loudness": -20.0, **user}
    with pytest.raises(ReaDDSPError, match="gear_type"):
        nam_user_metadata({"gear_type": "banana"}, "spec.json")
    with pytest.raises(ReaDDSPError, match="unknown field"):
        nam_user_metadata({"colour": "red"}, "spec.json")
