"""The grey boxes for effects they are meant to cover: each fit recovers a known system of its own family
from a few seconds of noise and tones (held-out ESR), and `auto` picks by validation and warns when a model
is no better than doing nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from readdsp.core.effects.compressor import CompressorModel, CompressorParams
from readdsp.core.effects.esr import esr
from readdsp.core.effects.lfo import Lfo
from readdsp.core.effects.modulation import ModulatedDelayModel
from readdsp.core.effects.phaser import PhaserModel
from readdsp.core.effects.tremolo import TremoloModel
from readdsp.datasets.effects.builder import build_dataset
from readdsp.training.effects.compressor_fit import fit_compressor
from readdsp.training.effects.modulation_fit import fit_modulation
from readdsp.training.effects.phaser_fit import fit_phaser
from readdsp.training.effects.train import baseline_warning, train_model
from readdsp.training.effects.tremolo_fit import fit_tremolo

SR = 48000
# A cap, not the thing tested: each fit stops on its own criterion well before this on an idle machine, and a
# CI runner shared with other work must not turn a wall-clock budget into a failed assertion.
MAX_FIT_SECONDS = 150.0


def _noise_bursts(seconds: float, seed: int) -> np.ndarray:
    """Noise whose level steps between -40 and -6 dB every 0.25 s (broadband at every level)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    levels = np.repeat(rng.permutation(np.logspace(-2, -0.3, 8)), SR // 4)
    return rng.standard_normal(n) * np.resize(levels, n) * 0.5


def _held_out(fitted, truth, seed: int = 9) -> float:
    x = _noise_bursts(4.0, seed)
    truth.reset()
    return esr(fitted.process(x, SR), truth.process(x, SR))


def test_modulation_fit_recovers_a_non_sine_lfo_with_feedback():
    lfo_ms = np.array([8.0, 2.0, 0.0, 0.0, 0.0, 0.22, 0.0])  # a rounded triangle around 8 ms
    truth = ModulatedDelayModel(SR, Lfo(1.3, lfo_ms, SR), 0.3, 0.6, 0.5)
    x = _noise_bursts(8.0, 1)
    fitted = fit_modulation(x, truth.process(x, SR), SR, max_seconds=MAX_FIT_SECONDS)
    assert fitted.lfo.rate_hz == pytest.approx(1.3, rel=2e-3)
    assert _held_out(fitted, truth) < 0.02


def test_modulation_fit_follows_its_delay_through_tones_and_learns_the_loop_order():
    """Broadband only in the first 2 s, then tones: the track is followed through them (the LFO is slower than
    the broadband stretch is long), and the flanger's loop (read before write) is found."""
    lfo_ms = np.array([3.0, 2.0, 0.0, 0.0, 0.0, 0.22, 0.0])
    truth = ModulatedDelayModel(SR, Lfo(0.7, lfo_ms, SR), 0.5, 0.4, 0.4, read_first=True)
    t = np.arange(10 * SR) / SR
    tones = 0.2 * np.sin(2 * np.pi * (150 + 40 * t) * t) + 0.1 * np.sign(np.sin(2 * np.pi * 220 * t))
    x = np.concatenate([_noise_bursts(2.0, 4), tones])
    fitted = fit_modulation(x, truth.process(x, SR), SR, max_seconds=MAX_FIT_SECONDS)
    assert fitted.lfo.rate_hz == pytest.approx(0.7, rel=2e-3)
    assert fitted.config()["read_first"] is True and fitted.feedback == pytest.approx(0.5, abs=0.05)
    assert _held_out(fitted, truth) < 0.02


def test_tremolo_fit_recovers_its_gain_shape():
    truth = TremoloModel(SR, Lfo(3.0, np.array([0.7, 0.25, 0.0, 0.0, 0.0, 0.05, 0.0]), SR))
    x = _noise_bursts(6.0, 2)
    fitted = fit_tremolo(x, truth.process(x, SR), SR, max_seconds=MAX_FIT_SECONDS)
    assert _held_out(fitted, truth) < 1e-3


def test_phaser_fit_finds_stages_and_sweep():
    truth = PhaserModel(SR, Lfo(0.8, np.array([10.0, 1.2, 0.0, 0.0, 0.2]), SR), 4, 0.3, 0.5, 0.5)
    x = _noise_bursts(8.0, 3)
    fitted = fit_phaser(x, truth.process(x, SR), SR, max_seconds=MAX_FIT_SECONDS)
    assert fitted.n_stages == 4
    assert _held_out(fitted, truth) < 0.02


def test_compressor_fit_recovers_threshold_and_ratio():
    truth = CompressorModel(SR, CompressorParams(3.0, -22.0, 4.0, 4.0, 2.0, 60.0, 3.0))
    x = _noise_bursts(8.0, 4)
    fitted = fit_compressor(x, truth.process(x, SR), SR, max_seconds=MAX_FIT_SECONDS)
    assert _held_out(fitted, truth) < 5e-3
    assert fitted.params.threshold_db == pytest.approx(-22.0, abs=2.0)


def test_baseline_warning_names_the_baseline():
    assert baseline_warning("fir", 0.01, {"identity": 0.9, "dry": 0.5}) is None
    warning = baseline_warning("modulation", 0.31, {"identity": 0.65, "dry": 0.30})
    assert "modulation" in warning and "dry baseline" in warning


def test_auto_tries_every_family_and_keeps_the_best_on_validation(tmp_path):
    spec = tmp_path / "spec.json"
    chain = [{"type": "gain", "gain_db": -6}, {"type": "delay", "delay_seconds": 0.01, "feedback": 0.0, "mix": 0.5}]
    spec.write_text(json.dumps({"name": "gain_delay", "tail_seconds": 0.05, "chain": chain}))
    ds = build_dataset(spec, tmp_path / "ds", minutes=0.05, seed=1, progress=False)
    result = train_model(ds, "auto", tmp_path / "m.safetensors", max_seconds=40)
    tried = {c["model"] for c in result["candidates"]}
    assert tried == {"fir", "shaper", "tremolo", "compressor", "gate", "modulation", "phaser", "wiener-hammerstein"}
    scored = [c for c in result["candidates"] if "val_esr" in c]
    assert result["val_esr"] == pytest.approx(min(c["val_esr"] for c in scored), rel=1e-6)
    assert result["model"] in ("fir", "shaper", "wiener-hammerstein", "modulation") and result["test_esr"] < 1e-3
    assert result["baseline_val_esr"]["dry"] > 0.1 and "warning" not in result


def test_report_shows_baselines_and_the_lfo_panel(tmp_path):
    from readdsp.core.effects.model_file import save_model
    from readdsp.training.effects.report import write_report

    spec = tmp_path / "spec.json"
    chain = [{"type": "chorus", "rate_hz": 1.0, "depth": 0.3, "centre_delay_ms": 8.0, "mix": 0.5}]
    spec.write_text(json.dumps({"name": "chorus", "tail_seconds": 0.05, "chain": chain}))
    ds = build_dataset(spec, tmp_path / "ds", minutes=0.05, progress=False)
    model = ModulatedDelayModel(SR, Lfo(1.0, np.array([8.0, 0.0, -3.0]), SR), 0.0, 0.5, 0.5)
    summary = write_report(save_model(tmp_path / "m.safetensors", model), ds, tmp_path / "report")
    for split in ("val", "test"):
        assert {f"{split}_esr", f"{split}_esr_identity_baseline", f"{split}_esr_dry_baseline"} <= set(summary)
    for png in ("mel_triptych.png", "impulse_response.png", "modulation.png"):
        assert (tmp_path / "report" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "modulation.png" in (tmp_path / "report" / "index.html").read_text()
