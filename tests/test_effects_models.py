"""Effect models: the FIR fits a known LTI system exactly; files, apply, report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from readdsp.core.effects.esr import esr
from readdsp.core.effects.fir_stream import apply_fir
from readdsp.core.effects.model_file import load_model
from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.effects.builder import build_dataset
from readdsp.datasets.effects.manifest import load_split
from readdsp.scripts.cli import main as cli_main
from readdsp.training.effects.fir_fit import fit_fir
from readdsp.training.effects.train import train_model


def test_esr_of_known_errors():
    y = np.sin(np.linspace(0, 100, 10000))
    assert esr(y, y) == 0.0
    assert esr(0.9 * y, y) == pytest.approx(0.01, rel=1e-9)
    assert esr(np.zeros_like(y), y) == pytest.approx(1.0)


def test_fir_recovers_gain_and_delay_from_noise():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(48000), np.zeros(600)])  # ends in silence, like our dataset inputs
    true = np.zeros(600)
    true[0], true[480] = 0.5, -0.25
    y = apply_fir(true, x)
    taps = fit_fir(x, y, 600, max_iterations=50)
    np.testing.assert_allclose(taps, true, atol=1e-4)


@pytest.fixture(scope="module")
def gain_delay_dataset(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("gd")
    spec = tmp / "spec.json"
    chain = [
        {"type": "gain", "gain_db": -6},
        {"type": "delay", "delay_seconds": 0.01, "feedback": 0.0, "mix": 0.5},
    ]
    spec.write_text(json.dumps({"name": "gain_delay", "tail_seconds": 0.05, "chain": chain}))
    return build_dataset(spec, tmp / "ds", minutes=0.1, seed=1, progress=False)


def test_fir_model_fits_pedalboard_gain_delay_exactly(gain_delay_dataset, tmp_path):
    result = train_model(gain_delay_dataset, "fir", tmp_path / "m.safetensors", max_seconds=30)
    assert result["test_esr"] < 1e-4 and result["val_esr"] < 1e-4
    taps = load_model(tmp_path / "m.safetensors").arrays()["fir"]
    g = 10 ** (-6 / 20)
    echo = int(np.argmax(np.abs(taps[1:]))) + 1
    assert abs(echo - 480) <= 1  # pedalboard puts a 10 ms delay at 479 samples
    assert taps[0] == pytest.approx(0.5 * g, abs=2e-3) and taps[echo] == pytest.approx(0.5 * g, abs=2e-3)
    assert np.max(np.abs(np.delete(taps, [0, echo]))) < 5e-3


def test_cli_train_apply_report(gain_delay_dataset, tmp_path):
    model = tmp_path / "gd.safetensors"
    assert (
        cli_main(
            [
                "effects",
                "train",
                str(gain_delay_dataset),
                "--model",
                "fir",
                "-o",
                str(model),
                "--max-seconds",
                "20",
            ]
        )
        == 0
    )
    x, y, sr = load_split(gain_delay_dataset, "test")
    sf.write(tmp_path / "in.wav", x, sr, subtype="FLOAT")
    assert cli_main(["effects", "apply", str(model), str(tmp_path / "in.wav"), "-o", str(tmp_path / "out.wav")]) == 0
    out, _ = sf.read(tmp_path / "out.wav")
    assert esr(out, y) < 1e-4
    report = tmp_path / "report"
    assert cli_main(["effects", "report", str(model), str(gain_delay_dataset), "-o", str(report)]) == 0
    summary = json.loads((report / "summary.json").read_text())
    assert summary["test_esr"] < 1e-4
    for png in ("mel_triptych.png", "impulse_response.png"):
        assert (report / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (report / png).stat().st_size > 5000
    key = json.loads((report / "abx" / "answer_key.json").read_text())
    chosen, _ = sf.read(report / "abx" / f"{key['X']}.wav")
    x_audio, _ = sf.read(report / "abx" / "X.wav")
    np.testing.assert_array_equal(x_audio, chosen)
    assert "mel_triptych.png" in (report / "index.html").read_text()


def test_bad_model_files_give_one_line_errors(tmp_path):
    (tmp_path / "bad.nam").write_text("{not json")
    with pytest.raises(ReaDDSPError, match="not a valid .nam file"):
        load_model(tmp_path / "bad.nam")
    (tmp_path / "bad.safetensors").write_bytes(b"garbage")
    with pytest.raises(ReaDDSPError, match="safetensors"):
        load_model(tmp_path / "bad.safetensors")
    assert cli_main(["effects", "apply", str(tmp_path / "bad.nam"), "x.wav", "-o", str(tmp_path / "o.wav")]) == 2


@pytest.mark.slow
def test_nam_trainer_writes_loadable_nam(tmp_path):
    pytest.importorskip("nam")
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "name": "d",
                "tail_seconds": 0.1,
                "chain": [{"type": "distortion", "drive_db": 20}, {"type": "gain", "gain_db": -6}],
                "nam": {"name": "Test drive", "modeled_by": "ReaDDSP", "gear_type": "pedal", "tone_type": "crunch"},
            }
        )
    )
    ds = build_dataset(spec, tmp_path / "ds", minutes=0.05, progress=False)
    result = train_model(ds, "nam-lstm", tmp_path / "m.nam", max_seconds=20, nam_max_steps=2)
    data = json.loads((tmp_path / "m.nam").read_text())
    assert data["architecture"] == "LSTM" and len(data["weights"]) > 1000
    user = {"name": "Test drive", "modeled_by": "ReaDDSP", "gear_type": "pedal", "tone_type": "crunch"}
    assert {k: data["metadata"].get(k) for k in user} == user
    assert np.isfinite(result["test_esr"]) and result["test_esr"] < 10
