"""The style-DDSP family: MIDI frames (CC steps with defaults, bend, velocity, timing), bundles, dispatch and render."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from readdsp.core.bundle import load_bundle, save_bundle
from readdsp.core.control_lanes import ControlLanes, set_cc, step_curve, value_at
from readdsp.core.errors import ReaDDSPError
from readdsp.core.midi_io import read_midi, write_midi
from readdsp.core.models.style_ddsp import StyleDDSP, StyleDecoderConfig
from readdsp.core.performance import Note, Part, Performance
from readdsp.core.programs import fallback_message
from readdsp.core.render import Renderer, model_for
from readdsp.core.style_frames import DEFAULT_STYLE_CCS, StyleCC, input_channels, voice_frames

ROOT = Path(__file__).resolve().parents[1]


def style_bundle(path: Path, style_ccs=DEFAULT_STYLE_CCS, sample_rate: int = 16000) -> Path:
    torch.manual_seed(0)
    decoder = StyleDecoderConfig(n_inputs=len(input_channels(style_ccs)), hidden=16, dilations=(1, 2))
    model = StyleDDSP(StyleDDSP.make_config(["testguitar"], sample_rate, list(style_ccs), decoder))
    with torch.no_grad():
        model.decoder.out.weight.mul_(5.0)  # a random decoder that clearly depends on its inputs
    return save_bundle(path, model.config, model.bundle_modules())


def test_cc_is_a_step_with_the_bundles_default_before_the_first_event():
    notes = [Note(60, 0.0, 0.5, 127), Note(62, 0.5, 1.0, 64)]
    lanes = ControlLanes({55: [(0.4, 0), (0.8, 100)]})
    inputs, _ = voice_frames(notes, lanes, 300, DEFAULT_STYLE_CCS)
    cc = inputs[:, input_channels(DEFAULT_STYLE_CCS).index("cc55")]
    assert np.allclose(cc[:100], 127 / 127)  # the default (127) before the first event at 0.4 s
    assert np.allclose(cc[100:200], 0.0)
    assert np.allclose(cc[200:], 100 / 127)


def test_velocity_pitch_bend_and_timing_channels():
    notes = [Note(60, 0.2, 0.6, 127), Note(64, 0.6, 1.0, 32)]
    lanes = ControlLanes(pitch_bend=[(0.7, 2.0)])
    inputs, midi = voice_frames(notes, lanes, 400, DEFAULT_STYLE_CCS)
    names = input_channels(DEFAULT_STYLE_CCS)
    velocity, gate = inputs[:, names.index("velocity")], inputs[:, names.index("gate")]
    assert velocity[0] == 0 and velocity[100] == pytest.approx(1.0) and velocity[200] == pytest.approx(32 / 127)
    assert velocity[300] == pytest.approx(32 / 127)  # held through the release
    assert gate[49] == 0 and gate[50] == 1 and gate[249] == 1 and gate[250] == 0
    assert midi[100] == 60 and midi[160] == 64 and midi[200] == 66  # bend of +2 semitones from 0.7 s
    assert midi[0] == 60  # the first note's pitch before it
    since = inputs[:, names.index("since_onset")]
    to_off = inputs[:, names.index("to_offset")]
    assert since[75] == pytest.approx(0.1 / 2.0) and to_off[50] == pytest.approx(0.4 / 2.0)
    assert to_off[275] == pytest.approx(-0.1 / 2.0)  # 0.1 s after the last offset


def test_lanes_from_a_segment_start_keep_the_value_in_force():
    lanes = ControlLanes({55: [(0.0, 0), (1.0, 127), (3.0, 0)]}, [(0.5, 1.0)])
    seen = lanes.from_time(2.0)
    assert seen.cc[55] == [(0.0, 127), (1.0, 0)]
    assert seen.pitch_bend == [(0.0, 1.0)]
    assert value_at(lanes.cc[55], 2.5, 64) == 127 and value_at([], 1.0, 64) == 64
    assert np.allclose(step_curve([(0.02, 5)], 10, 1.0), [1, 1, 1, 1, 1, 5, 5, 5, 5, 5])


def test_cc_lanes_are_first_class_read_edit_write(tmp_path):
    part = Part("gtr", 25, notes=[Note(52, 0.0, 1.0, 90)])
    set_cc(part, 55, 0.0, 0)
    set_cc(part, 55, 0.5, 127)
    set_cc(part, 55, 0.5, 100)  # replaces the event at the same time
    with pytest.raises(ReaDDSPError):
        set_cc(part, 55, 0.1, 300)
    path = write_midi(Performance([part]), tmp_path / "riff.mid")
    back = read_midi(path).parts[0]
    assert [v for _, v in back.cc[55]] == [0, 100]
    assert back.cc[55][1][0] == pytest.approx(0.5, abs=2e-3)


def test_bundle_dispatch_and_unknown_family(tmp_path):
    path = style_bundle(tmp_path / "sg.safetensors")
    bundle = load_bundle(path)
    assert bundle.family == "style-ddsp"
    assert isinstance(model_for(bundle), StyleDDSP)
    bundle.config["model"] = "wavenet-9000"
    with pytest.raises(ReaDDSPError, match="unknown model family 'wavenet-9000'") as err:
        model_for(bundle)
    assert "sg.safetensors" in str(err.value)
    bad = dict(
        load_bundle(path).config, style_ccs=[{"number": 300, "name": "x", "display": "X", "default": 0, "meaning": ""}]
    )
    with pytest.raises(ReaDDSPError, match="0..127"):
        StyleDDSP(bad, path)


def test_render_honours_cc_and_is_deterministic(tmp_path):
    renderer = Renderer.load(style_bundle(tmp_path / "sg.safetensors"))
    notes = [Note(52, 0.1, 0.6, 100), Note(55, 0.6, 1.1, 100), Note(59, 0.6, 1.1, 80)]  # a chord: two voices

    def render(cc55: int) -> np.ndarray:
        part = Part(
            "gtr", 25, notes=[Note(n.pitch, n.onset, n.offset, n.velocity) for n in notes], cc={55: [(0.0, cc55)]}
        )
        return renderer.render(Performance([part]), 16000, seed=0).mix

    closed, opened = render(0), render(127)
    assert np.isfinite(closed).all() and np.abs(closed).max() > 0
    assert not np.allclose(closed, opened)
    assert np.array_equal(closed, render(0))


def test_another_models_cc_list(tmp_path):
    ccs = (
        StyleCC(20, "pick", "Pick position", 64, "0 = neck, 127 = bridge"),
        StyleCC(21, "mute", "Palm mute", 0, "0 = none"),
    )
    model = model_for(load_bundle(style_bundle(tmp_path / "two.safetensors", ccs)))
    assert [cc.number for cc in model.style_ccs] == [20, 21]
    assert model.decoder.config.n_inputs == len(input_channels(ccs)) == 7


def test_programs_without_a_model_say_what_they_map_to():
    assert "piano" in fallback_message(0, "guitar") and "guitar" in fallback_message(0, "guitar")
    assert "chromatic percussion" in fallback_message(9, "guitar")
    assert fallback_message(25, "guitar") is None and fallback_message(40, "violin") is None


def test_model_set_renders_two_families_in_one_pass(tmp_path, random_bundle):
    from readdsp.core.model_set import ModelSet

    guitar = model_for(load_bundle(style_bundle(tmp_path / "sg.safetensors", sample_rate=24000)))
    strings = model_for(load_bundle(random_bundle))
    renderer = Renderer(ModelSet([strings, guitar]), None, {})
    perf = Performance(
        [
            Part("gtr", 25, instrument="testguitar", notes=[Note(52, 0.1, 0.6, 100)], cc={55: [(0.0, 0)]}),
            Part("vln", 40, instrument="violin", notes=[Note(67, 0.1, 0.6, 100)]),
        ]
    )
    result = renderer.render(perf, 16000, seed=0)
    assert set(result.instruments.values()) == {"testguitar", "violin"}
    assert all(np.abs(stem).max() > 0 for stem in result.stems.values())


def test_cli_render_with_a_style_bundle_and_bad_bundle(tmp_path):
    bundle = style_bundle(tmp_path / "sg.safetensors")
    part = Part("gtr", 25, notes=[Note(52, 0.1, 0.6, 100)], cc={55: [(0.0, 0)]})
    midi = write_midi(Performance([part]), tmp_path / "riff.mid")
    cli = [sys.executable, "-m", "readdsp.scripts.cli"]
    ok = subprocess.run(
        [*cli, "render", str(midi), "--bundle", str(bundle), "-o", str(tmp_path / "r.wav")],
        capture_output=True,
        text=True,
        cwd=ROOT.parent,
    )
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "r.wav").is_file()
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a bundle")
    bad = subprocess.run(
        [*cli, "render", str(midi), "--model", str(junk), "-o", str(tmp_path / "x.wav")],
        capture_output=True,
        text=True,
        cwd=ROOT.parent,
    )
    assert bad.returncode == 2 and "junk.safetensors" in bad.stderr and not (tmp_path / "x.wav").exists()


def test_openness_proxy_ranks_a_muted_decay_under_an_open_one():
    from readdsp.training.style_evaluate import onset_groups, openness_proxy

    sr = 16000
    notes = np.array([[52, 0.1, 0.9, 100], [59, 0.1, 0.8, 90], [55, 1.0, 1.2, 80], [57, 1.3, 2.0, 80]], float)
    assert onset_groups(notes) == [(0.1, 0.8), (1.0, 1.2), (1.3, 2.0)]  # a chord is one group; ends are clipped
    t = np.arange(int(2.2 * sr)) / sr

    def plucks(decay_db_per_s: float) -> np.ndarray:
        audio = np.zeros_like(t)
        for on in (0.1, 1.0, 1.3):
            since = np.clip(t - on, 0, None)
            audio += (t >= on) * np.sin(2 * np.pi * 220 * t) * 10 ** (-decay_db_per_s * since / 20)
        return audio

    muted, ringing = openness_proxy(plucks(80.0), sr, notes), openness_proxy(plucks(8.0), sr, notes)
    assert muted < ringing - 15.0  # 80 dB/s over ~0.25 s against 8 dB/s
    assert np.isnan(openness_proxy(np.zeros(100), sr, notes))


def test_note_f1_matches_pitch_and_onset_one_to_one():
    from readdsp.datasets.guitar_transcribe import note_f1

    ref = [Note(60, 0.0, 0.5), Note(64, 0.0, 0.5), Note(67, 1.0, 1.5)]
    est = [Note(60, 0.03, 0.4), Note(60, 0.04, 0.4), Note(64, 0.2, 0.5), Note(67, 0.98, 1.2)]
    assert note_f1(ref, est) == {
        "reference": 3,
        "estimated": 4,
        "matched": 2,
        "f1": round(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3), 4),
    }
    assert note_f1(ref, [])["f1"] == 0.0


def test_transcriber_finds_plucked_notes_offline():
    from readdsp.datasets.guitar_transcribe import Transcriber, bundled_model_path, note_f1

    if bundled_model_path() is None:
        pytest.skip("basic-pitch's nmp.onnx is not installed (pip install --no-deps basic-pitch)")
    sr = 22050
    t = np.arange(int(3.0 * sr)) / sr
    ref = [Note(52, 0.3, 1.2), Note(57, 1.3, 2.2), Note(64, 2.3, 2.9)]
    audio = np.zeros_like(t)
    for n in ref:
        since = np.clip(t - n.onset, 0, None)
        f0 = 440.0 * 2 ** ((n.pitch - 69) / 12)
        tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6))
        audio += (t >= n.onset) * (t < n.offset) * tone * np.exp(-3.0 * since) * 0.2
    assert note_f1(ref, Transcriber().transcribe(audio.astype(np.float32), sr))["matched"] >= 2


def test_segments_of_mixed_lengths_generate_as_if_alone(tmp_path):
    """Batches of similar length (little padding) give each segment the controls it gets on its own."""
    from readdsp.core.models.style_ddsp import similar_lengths

    assert similar_lengths([400, 10, 12, 390, 11, 1000]) == [[1, 4, 2], [3, 0], [5]]
    model = model_for(load_bundle(style_bundle(tmp_path / "style.safetensors")))
    segments = [[Note(60 + i, 0.05, 0.05 + 0.3 * (i + 1), 90)] for i in range(5)] + [[Note(48, 0.05, 6.0, 70)]]
    frames = [int(250 * (segment[0].offset + 0.5)) for segment in segments]
    together = model.generate_controls(segments, frames, ["testguitar"] * 6, [0] * 6)
    for row, (segment, n) in enumerate(zip(segments, frames, strict=True)):
        alone = model.generate_controls([segment], [n], ["testguitar"], [0])[0]
        assert together[row].f0_hz.shape == alone.f0_hz.shape == (1, n)
        assert torch.allclose(together[row].amplitude, alone.amplitude, atol=1e-6)
        assert torch.allclose(together[row].harmonic_distribution, alone.harmonic_distribution, atol=1e-6)
