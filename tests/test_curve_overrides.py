"""Drawn synthesis curves: applied over their span only, harmonics kept below Nyquist, loudness as amplitude dB."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from readdsp.core.curve_overrides import Curve, PartCurves, apply_curve_overrides
from readdsp.core.errors import ReaDDSPError
from readdsp.core.synth.controls import SynthControls
from readdsp.core.units import amplitude_to_db, hz_to_midi

FRAME_RATE = 250
SAMPLE_RATE = 16000


def controls(n_frames: int = 250, n_harmonics: int = 60) -> SynthControls:
    distribution = torch.full((1, n_frames, n_harmonics), 1.0 / n_harmonics)
    return SynthControls(
        f0_hz=torch.full((1, n_frames), 220.0),
        amplitude=torch.full((1, n_frames), 0.1),
        harmonic_distribution=distribution,
        noise_magnitudes=torch.full((1, n_frames, 8), 0.01),
    )


def test_drawn_f0_replaces_only_its_span_and_drops_harmonics_past_nyquist():
    start = 10.0
    curves = PartCurves(f0_midi=[Curve([10.2, 10.6], [81.0, 81.0])])  # A5, 880 Hz
    out = apply_curve_overrides(controls(), curves, start, FRAME_RATE, SAMPLE_RATE)
    times = start + np.arange(250) / FRAME_RATE
    inside = (times >= 10.2) & (times <= 10.6)
    assert np.allclose(hz_to_midi(out.f0_hz[0].numpy())[inside], 81.0, atol=1e-3)
    assert np.allclose(out.f0_hz[0].numpy()[~inside], 220.0)
    audible = int(np.ceil(SAMPLE_RATE / 2 / 880.0)) - 1  # harmonics k with k * 880 < 8000
    assert out.harmonic_distribution[0, inside][:, audible:].abs().max() == 0
    assert torch.allclose(out.harmonic_distribution[0].sum(-1), torch.ones(250))
    assert torch.equal(out.amplitude, controls().amplitude)


def test_drawn_loudness_sets_amplitude_db_and_scales_noise_alike():
    curves = PartCurves(loudness_db=[Curve([0.0, 0.5], [-6.0, -6.0])])
    out = apply_curve_overrides(controls(), curves, 0.0, FRAME_RATE, SAMPLE_RATE)
    inside = slice(0, 126)
    assert np.allclose(amplitude_to_db(out.amplitude[0, inside].numpy()), -6.0, atol=1e-3)
    gain = out.amplitude[0, inside] / 0.1
    assert torch.allclose(out.noise_magnitudes[0, inside, 0], 0.01 * gain)
    assert torch.allclose(out.amplitude[0, 130:], torch.tensor(0.1))


def test_no_curves_or_curves_elsewhere_leave_controls_as_they_are():
    original = controls()
    assert apply_curve_overrides(original, None, 0.0, FRAME_RATE, SAMPLE_RATE) is original
    far = PartCurves(f0_midi=[Curve([50.0, 51.0], [60.0, 61.0])])
    assert apply_curve_overrides(original, far, 0.0, FRAME_RATE, SAMPLE_RATE) is original


@pytest.mark.parametrize("times, values", [([0.0], [60.0]), ([0.0, np.nan], [60.0, 61.0]), ([0.0, 1.0], [60.0])])
def test_a_bad_curve_is_a_one_line_error(times, values):
    with pytest.raises(ReaDDSPError):
        Curve(times, values)


def test_panel_screenshot_command(random_bundle, tmp_path):
    import mido

    from readdsp.scripts.cli import main

    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    track = mido.MidiTrack()
    track.append(mido.Message("program_change", program=40, time=0))
    for pitch in (67, 69):
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, time=240))
    midi.tracks.append(track)
    song = tmp_path / "song.mid"
    midi.save(song)
    original = song.read_bytes()
    png = tmp_path / "shot.png"
    assert main(["panel", str(song), "--bundle", str(random_bundle), "--screenshot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert song.read_bytes() == original
    assert not (tmp_path / "song.readdsp-expression.json").exists()
    assert sorted(f.name for f in tmp_path.iterdir()) == ["shot.png", "song.mid"]  # no settings file left behind
