"""Effect datasets: seeded signals, validation, pedalboard processing, manifest, atomic builds, NAM export."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pedalboard
import pytest
import soundfile as sf

from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.effects.builder import build_dataset
from readdsp.datasets.effects.capture import capture_signal
from readdsp.datasets.effects.chain_spec import load_chain_spec
from readdsp.datasets.effects.manifest import load_split, sha256_file, verify_dataset
from readdsp.datasets.effects.nam_export import export_nam
from readdsp.datasets.effects.signals import seed_signals
from readdsp.datasets.effects.user_audio import folder_material, validate_audio_file
from readdsp.scripts.cli import main as cli_main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "effects"
SHARED = Path(os.environ.get("READDSP_SHARED_DATA", Path(__file__).resolve().parents[1] / "../shared/data"))
SR = 48000


def _spec(tmp_path: Path, chain: list, **extra) -> Path:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"name": "t", "chain": chain, **extra}))
    return path


def test_seed_signals_are_deterministic_with_gaps_and_varying_levels():
    a, b, c = seed_signals(20, SR, 1), seed_signals(20, SR, 1), seed_signals(20, SR, 2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.max(np.abs(a)) <= 1.0
    frames = np.abs(a[: len(a) // 4800 * 4800]).reshape(-1, 4800).max(axis=1)
    assert (frames < 1e-4).mean() > 0.01  # gaps
    loud = frames[frames > 1e-3]
    assert loud.max() / loud.min() > 10  # levels vary by more than 20 dB
    spectrum = np.abs(np.fft.rfft(a)) ** 2
    freqs = np.fft.rfftfreq(len(a), 1 / SR)
    assert spectrum[(freqs >= 70) & (freqs <= 1300)].sum() / spectrum.sum() > 0.5  # fundamentals in 80-1200 Hz


def test_capture_has_preroll_impulses_and_noise_levels():
    cap = capture_signal(SR, 0)
    assert np.all(cap.audio[: cap.impulse_positions[0]] == 0)
    assert cap.impulse_positions[0] == int(0.5 * SR)
    for p in cap.impulse_positions:
        assert cap.audio[p] > 0.4 and np.all(cap.audio[p + 1 : p + 1000] == 0)
    frames = cap.audio[: len(cap.audio) // 4800 * 4800].reshape(-1, 4800)
    rms_db = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-12)
    assert rms_db.max() > -6 and np.sum((rms_db > -40) & (rms_db < -30)) >= 2  # loud and quiet bursts


def test_user_audio_validation(tmp_path):
    sf.write(tmp_path / "bad8.wav", np.zeros(4410), 44100, subtype="PCM_U8")
    with pytest.raises(ReaDDSPError, match="unsupported sample format PCM_U8"):
        validate_audio_file(tmp_path / "bad8.wav")
    sf.write(tmp_path / "odd.wav", np.zeros(1000), 12345, subtype="PCM_16")
    with pytest.raises(ReaDDSPError, match="unsupported sample rate 12345"):
        validate_audio_file(tmp_path / "odd.wav")
    good = tmp_path / "good"
    good.mkdir()
    t = np.arange(44100) / 44100
    sf.write(good / "a.flac", 0.3 * np.sin(2 * np.pi * 440 * t), 44100, subtype="PCM_24")
    audio = folder_material(good, SR, 1.0, 0)
    assert len(audio) == SR  # resampled 44.1 -> 48 kHz
    peak_hz = np.argmax(np.abs(np.fft.rfft(audio))) * SR / len(audio)
    assert abs(peak_hz - 440) < 2


def test_spec_errors_name_the_problem(tmp_path):
    with pytest.raises(ReaDDSPError, match="unknown effect type 'fuzzbox'"):
        load_chain_spec(_spec(tmp_path, [{"type": "fuzzbox"}]))
    with pytest.raises(ReaDDSPError, match="unknown parameter"):
        load_chain_spec(_spec(tmp_path, [{"type": "delay", "time": 1}]))
    spec = load_chain_spec(_spec(tmp_path, [{"type": "convolution", "ir": "irs/cab.wav"}]))
    assert spec.effects[0]["ir"] == (tmp_path / "irs" / "cab.wav").resolve()  # relative to the spec file


def test_build_distortion_dataset_matches_pedalboard(tmp_path):
    spec = _spec(tmp_path, [{"type": "distortion", "drive_db": 25}, {"type": "gain", "gain_db": -12}], tail_seconds=0.1)
    out = build_dataset(spec, tmp_path / "ds", minutes=0.1, seed=3, progress=False)
    verify_dataset(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["chain_spec"]["chain"][0] == {"type": "distortion", "drive_db": 25}
    assert manifest["latency_samples"] == 0 and manifest["sample_rate"] == SR
    assert manifest["sha256"]["train_input.wav"] == sha256_file(out / "train_input.wav")
    x, y, sr = load_split(out, "val")
    board = pedalboard.Pedalboard([pedalboard.Distortion(25), pedalboard.Gain(-12)])
    np.testing.assert_allclose(y, board(x[None], sr)[0], atol=1e-6)
    assert np.max(np.abs(y)) > 0.1 and np.max(np.abs(y)) <= 10 ** (-12 / 20) + 1e-3  # tanh saturates at -12 dB


def test_build_is_all_or_nothing(tmp_path):
    spec = _spec(tmp_path, [{"type": "gain", "gain_db": -3}, {"type": "vst3", "path": "missing/Plugin.vst3"}])
    with pytest.raises(ReaDDSPError, match="VST3 plugin not found"):
        build_dataset(spec, tmp_path / "ds", minutes=0.05, progress=False)
    assert sorted(os.listdir(tmp_path)) == ["spec.json"]  # no dataset and no temp folder left
    ok = _spec(tmp_path, [{"type": "gain", "gain_db": -3}])
    build_dataset(ok, tmp_path / "ds", minutes=0.05, progress=False)
    with pytest.raises(ReaDDSPError, match="output folder exists"):
        build_dataset(ok, tmp_path / "ds", minutes=0.05, progress=False)


def test_nam_export_meets_nam_data_rules(tmp_path):
    chain = [{"type": "distortion", "drive_db": 20}, {"type": "gain", "gain_db": -6}]
    ds = build_dataset(_spec(tmp_path, chain, tail_seconds=0.1), tmp_path / "ds", minutes=0.1, progress=False)
    hot = tmp_path / "hot"
    shutil.copytree(ds, hot)
    y, sr = sf.read(hot / "train_target.wav")
    sf.write(hot / "train_target.wav", np.clip(4 * y, -1, 1), sr, subtype="FLOAT")  # a target that touches 0 dBFS
    with pytest.raises(ReaDDSPError, match="would clip"):
        export_nam(hot, tmp_path / "hot_nam")
    config = export_nam(ds, tmp_path / "nam")
    x, sr = sf.read(tmp_path / "nam" / "input.wav")
    y, _ = sf.read(tmp_path / "nam" / "output.wav")
    assert sf.info(tmp_path / "nam" / "input.wav").subtype == "PCM_24" and len(x) == len(y) and sr == SR
    for start in (config["train"]["start_seconds"], config["validation"]["start_seconds"]):
        i = int(round(start * sr))
        assert np.all(x[i - int(0.4 * sr) : i] == 0)  # NAM's require_input_pre_silence = 0.4 s


def test_cli_builds_every_builtin_example(tmp_path):
    for name in ("distortion", "chorus", "delay", "reverb", "freeverb"):
        assert (
            cli_main(
                [
                    "effects",
                    "build",
                    str(EXAMPLES / f"{name}.json"),
                    "-o",
                    str(tmp_path / name),
                    "--minutes",
                    "0.05",
                ]
            )
            == 0
        )
        x, y, _ = load_split(tmp_path / name, "train")
        assert np.sum((y - x) ** 2) > 1e-3 * np.sum(x**2)  # the effect changed the audio
    assert cli_main(["effects", "build", str(tmp_path / "nope.json"), "-o", str(tmp_path / "x")]) == 2


@pytest.mark.skipif(
    not (SHARED / "irs/voxengo/direct_cabinet_n1.wav").is_file(), reason="shared data (IRs) not present"
)
def test_drive_cab_example_with_real_ir(tmp_path):
    out = build_dataset(EXAMPLES / "drive_cab.json", tmp_path / "ds", minutes=0.05, progress=False)
    x, y, _ = load_split(out, "train")
    assert np.isfinite(y).all() and np.max(np.abs(y)) > 0.01


def test_reaper_only_spec_on_the_builtin_backend_is_refused(tmp_path):
    chain = tmp_path / "c.RfxChain"
    chain.write_text("GAIN 0.5\n")
    spec = tmp_path / "reaper_only.json"
    spec.write_text(json.dumps({"name": "r", "reaper": {"fxchain": str(chain)}}))
    assert cli_main(["effects", "build", str(spec), "-o", str(tmp_path / "ds"), "--minutes", "0.05"]) == 2
    with pytest.raises(ReaDDSPError, match="needs --backend reaper"):
        build_dataset(spec, tmp_path / "ds", minutes=0.05, progress=False)
    assert not (tmp_path / "ds").exists()


def test_level_scales_the_capture_and_is_recorded(tmp_path):
    spec = _spec(tmp_path, [{"type": "gain", "gain_db": -6}])
    plain = build_dataset(spec, tmp_path / "plain", minutes=0.05, progress=False)
    quiet = build_dataset(spec, tmp_path / "quiet", minutes=0.05, progress=False, level_db=-12.0)
    x0, _, _ = load_split(plain, "test")
    x1, y1, _ = load_split(quiet, "test")
    np.testing.assert_allclose(x1, x0 * 10 ** (-12 / 20), atol=1e-6)
    np.testing.assert_allclose(y1, x1 * 10 ** (-6 / 20), atol=1e-6)
    assert json.loads((quiet / "manifest.json").read_text())["level_db"] == -12.0
    with pytest.raises(ReaDDSPError, match="--level"):
        build_dataset(spec, tmp_path / "loud", minutes=0.05, progress=False, level_db=30.0)


def test_builtin_chain_that_changes_nothing_is_refused(tmp_path):
    spec = _spec(tmp_path, [{"type": "gain", "gain_db": 0}])
    with pytest.raises(ReaDDSPError, match="builtin output equals its input.*check the spec's chain"):
        build_dataset(spec, tmp_path / "ds", minutes=0.05, progress=False)
