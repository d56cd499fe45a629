"""Note expression controls from constructed synthesis parameters, checked against the reference formulas."""

from __future__ import annotations

import numpy as np
import pytest

from readdsp.core.errors import ReaDDSPError
from readdsp.core.features import extract_expression
from readdsp.core.features.expression import REFERENCE_SCALE, ExpressionScale, volume_from_db
from readdsp.core.performance import CONTROL_NAMES

FRAME_RATE = 250
N_HARMONICS = 60
N_NOISE = 65
PITCH = 69  # A4


def midi_to_hz(midi: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69.0) / 12.0)


def params(n_frames: int, amplitude: float = 0.1, noise: float = 10 ** (-70 / 20), harmonic: int = 1):
    """Steady parameters: f0 at PITCH, constant amplitude, one harmonic, flat noise bands."""
    hd = np.zeros((n_frames, N_HARMONICS))
    hd[:, harmonic - 1] = 1.0
    return {
        "f0_hz": np.full(n_frames, midi_to_hz(PITCH)),
        "amplitude": np.full(n_frames, amplitude),
        "harmonic_distribution": hd,
        "noise_magnitudes": np.full((n_frames, N_NOISE), noise),
    }


def control(values: np.ndarray, name: str) -> np.ndarray:
    return values[:, CONTROL_NAMES.index(name)]


def with_vibrato(n_frames: int, rate_hz: float, depth_semitones: float) -> dict:
    p = params(n_frames)
    t = np.arange(n_frames) / FRAME_RATE
    p["f0_hz"] = midi_to_hz(PITCH + depth_semitones * np.sin(2 * np.pi * rate_hz * t))
    return p


def test_constant_note_gives_the_exact_reference_values():
    amplitude, noise_db = 0.05, -70.0
    out = extract_expression(**params(300, amplitude, 10 ** (noise_db / 20), harmonic=3), notes=[(PITCH, 0, 300)])
    volume_db = 20 * np.log10(amplitude)
    expected = {
        "volume": volume_db / 60 + 1.5,
        "vol_fluc": 0.0,
        "vibrato": 0.0,
        "brightness": 3 / N_HARMONICS * 5,
        "attack": noise_db / 40 + 2.625,
        "vol_peak_pos": 0.0,  # all frames equal: the first one is the peak
    }
    assert out.shape == (1, 6)
    for name, value in expected.items():
        assert control(out, name)[0] == pytest.approx(value, abs=1e-9), name


def test_louder_amplitude_gives_higher_volume_and_floor_at_minus_80_db():
    volumes = [
        control(extract_expression(**params(200, a), notes=[(PITCH, 0, 200)]), "volume")[0] for a in (1e-6, 0.01, 0.3)
    ]
    assert volumes[0] == pytest.approx(-80 / 60 + 1.5)  # below the floor: -80 dB
    assert volumes[0] < volumes[1] < volumes[2]


def test_six_hz_vibrato_is_measured_and_two_hz_is_not():
    depth = 0.05  # semitones
    six = control(extract_expression(**with_vibrato(500, 6.0, depth), notes=[(PITCH, 0, 500)]), "vibrato")[0]
    # |rFFT| peak of a Tukey(0.5)-windowed sine / length = depth * sum(window) / 2 / length = 0.375 depth; x10
    assert six == pytest.approx(3.75 * depth, rel=0.05)
    two = control(extract_expression(**with_vibrato(500, 2.0, depth), notes=[(PITCH, 0, 500)]), "vibrato")[0]
    assert two == 0.0


def test_vibrato_grows_with_depth_and_ignores_short_notes_and_unvoiced_frames():
    deep = control(extract_expression(**with_vibrato(500, 5.0, 0.3), notes=[(PITCH, 0, 500)]), "vibrato")[0]
    shallow = control(extract_expression(**with_vibrato(500, 5.0, 0.1), notes=[(PITCH, 0, 500)]), "vibrato")[0]
    assert deep == pytest.approx(3 * shallow, rel=0.02)
    short = extract_expression(**with_vibrato(500, 6.0, 0.3), notes=[(PITCH, 0, 45)])  # 180 ms
    assert control(short, "vibrato")[0] == 0.0
    unvoiced = with_vibrato(500, 6.0, 0.3)
    unvoiced["f0_hz"][:] = 0.0  # deviation beyond 2 semitones is zeroed: no vibrato
    assert control(extract_expression(**unvoiced, notes=[(PITCH, 0, 500)]), "vibrato")[0] == 0.0


def test_crescendo_peaks_late_and_decrescendo_early():
    p = params(400)
    p["amplitude"][:200] = np.linspace(0.01, 0.5, 200)
    p["amplitude"][200:] = np.linspace(0.5, 0.01, 200)
    out = extract_expression(**p, notes=[(PITCH, 0, 200), (PITCH, 200, 400)])
    assert control(out, "vol_peak_pos")[0] == pytest.approx(199 / 200)
    assert control(out, "vol_peak_pos")[1] == 0.0


def test_peak_position_only_looks_at_the_first_1000_frames():
    p = params(2000)
    p["amplitude"][:] = np.linspace(0.01, 0.5, 2000)
    out = extract_expression(**p, notes=[(PITCH, 0, 2000)])
    assert control(out, "vol_peak_pos")[0] == pytest.approx(999 / 1000)


def test_tremolo_fluctuates_and_steady_note_does_not():
    steady = extract_expression(**params(500), notes=[(PITCH, 0, 500)])
    tremolo_params = params(500)
    tremolo_params["amplitude"] = 0.1 * (1 + 0.5 * np.sin(2 * np.pi * 5 * np.arange(500) / FRAME_RATE))
    tremolo = extract_expression(**tremolo_params, notes=[(PITCH, 0, 500)])
    assert control(steady, "vol_fluc")[0] == 0.0
    expected_std_db = np.std(20 * np.log10(tremolo_params["amplitude"]))
    assert control(tremolo, "vol_fluc")[0] == pytest.approx(expected_std_db / 24)
    assert control(tremolo, "vol_fluc")[0] > 0.1


def test_higher_harmonics_are_brighter():
    values = [
        control(extract_expression(**params(100, harmonic=k), notes=[(PITCH, 0, 100)]), "brightness")[0]
        for k in (1, 6, 12)
    ]
    np.testing.assert_allclose(values, [1 / 12, 6 / 12, 12 / 12])
    spread = params(100)
    spread["harmonic_distribution"][:] = 1.0 / N_HARMONICS  # flat: centroid at 30.5
    bright = control(extract_expression(**spread, notes=[(PITCH, 0, 100)]), "brightness")[0]
    assert bright == pytest.approx(30.5 / 12)


def test_noise_at_the_note_start_raises_attack():
    quiet = params(300)
    noisy = params(300)
    noisy["noise_magnitudes"][100:110] = 10 ** (-66 / 20)  # first 10 frames of the note
    noisy["noise_magnitudes"][110:120] = 1.0  # after the attack window: ignored
    notes = [(PITCH, 100, 300)]
    assert control(extract_expression(**quiet, notes=notes), "attack")[0] == pytest.approx(-70 / 40 + 2.625)
    assert control(extract_expression(**noisy, notes=notes), "attack")[0] == pytest.approx(-66 / 40 + 2.625)


def test_notes_use_only_their_own_frames_and_rests_are_zero():
    p = params(600)
    p["amplitude"][:300] = 0.01
    p["amplitude"][300:] = 0.1
    out = extract_expression(**p, notes=[(PITCH, 0, 300), (0, 300, 350), (PITCH, 350, 600), (PITCH, 590, 591)])
    assert control(out, "volume")[0] == pytest.approx(-40 / 60 + 1.5)
    assert control(out, "volume")[2] == pytest.approx(-20 / 60 + 1.5)
    assert np.all(out[1] == 0.0) and np.all(out[3] == 0.0)  # a rest, and a one-frame note (the reference drops it)


def test_clip_option_bounds_values_and_default_does_not():
    loud = params(200, amplitude=2.0)  # +6 dB -> volume 1.6 in the reference
    raw = extract_expression(**loud, notes=[(PITCH, 0, 200)])
    clipped = extract_expression(**loud, notes=[(PITCH, 0, 200)], clip=True)
    assert control(raw, "volume")[0] == pytest.approx(20 * np.log10(2.0) / 60 + 1.5)
    assert control(clipped, "volume")[0] == 1.0
    assert clipped.min() >= 0.0 and clipped.max() <= 1.0
    # Reference quirk: a mean of exactly 0 dB is treated as "no note" and stays 0.
    assert control(extract_expression(**params(200, amplitude=1.0), notes=[(PITCH, 0, 200)]), "volume")[0] == 0.0


def test_mismatched_lengths_are_rejected():
    p = params(100)
    p["amplitude"] = p["amplitude"][:90]
    with pytest.raises(ReaDDSPError, match="frame counts differ"):
        extract_expression(**p, notes=[(PITCH, 0, 90)])


def test_fitted_scale_puts_a_corpus_inside_the_control_range() -> None:
    rng = np.random.default_rng(0)
    volume_db, attack_db = rng.normal(-25.0, 8.0, 5000), rng.normal(-70.0, 5.0, 5000)
    scale = ExpressionScale.from_data(volume_db, attack_db)
    volume = volume_from_db(volume_db, scale)
    assert np.percentile(volume, 1) == pytest.approx(0.05, abs=0.01)
    assert np.percentile(volume, 99) == pytest.approx(0.95, abs=0.01)
    assert np.mean((volume <= 0) | (volume >= 1)) < 0.02
    assert ExpressionScale.from_dict(scale.to_dict()) == scale
    assert ExpressionScale.from_dict(None) == REFERENCE_SCALE
    with pytest.raises(ReaDDSPError, match="not increasing"):
        ExpressionScale.from_dict({"volume_db": [-10, -20], "attack_db": [-100, -60]})
    with pytest.raises(ReaDDSPError, match="malformed"):
        ExpressionScale.from_dict({"volume_db": ["x"]})
