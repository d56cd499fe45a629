"""The effect API: every model kind streams (block by block = one call), resets, round-trips through the one
file format with its numbers checked; chains; the layering rules for effects."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from readdsp.core.effects import REGISTRY, EffectChain, EffectModel, load_model, save_model
from readdsp.core.effects.chorus_dsp import ChorusParams, JuceChorusModel
from readdsp.core.effects.compressor import CompressorModel, CompressorParams
from readdsp.core.effects.fir import FirModel
from readdsp.core.effects.fir_stream import apply_fir
from readdsp.core.effects.gate import GateModel, GateParams
from readdsp.core.effects.lfo import Lfo
from readdsp.core.effects.modulation import ModulatedDelayModel
from readdsp.core.effects.phaser import PhaserModel
from readdsp.core.effects.shaper import ShaperModel
from readdsp.core.effects.tremolo import TremoloModel
from readdsp.core.effects.wiener_hammerstein import WienerHammersteinModel
from readdsp.core.errors import ReaDDSPError

ROOT = Path(__file__).resolve().parents[1]
TRIANGLE_MS = np.array([20.0, 4.0, 0.0, 0.0, 0.0, 4.0 / 9, 0.0])  # 20 ms +- ~4.4 ms, odd harmonics


def _models(sr: int) -> list[EffectModel]:
    knots = np.linspace(-1, 1, 9)
    taps = np.array([0.6, 0.3, -0.1, 0.05])
    return [
        FirModel(sr, taps),
        ShaperModel(sr, knots, np.tanh(3 * knots), taps),
        WienerHammersteinModel(sr, np.array([1.0, -0.5]), knots, np.tanh(2 * knots), taps),
        JuceChorusModel(sr, ChorusParams(1.1, -np.pi, 0.007 * sr, 0.002 * sr, 0.001 * sr, 0.2, 0.7, 0.5)),
        ModulatedDelayModel(sr, Lfo(0.7, TRIANGLE_MS, sr), 0.4, 0.6, 0.5),
        ModulatedDelayModel(sr, Lfo(0.7, TRIANGLE_MS, sr), 0.4, 0.6, 0.5, read_first=True),
        PhaserModel(sr, Lfo(0.5, np.array([10.0, 1.5, 0.3]), sr), 6, 0.3, 0.5, 0.5),
        TremoloModel(sr, Lfo(4.0, np.array([0.7, 0.3, 0.0]), sr)),
        CompressorModel(sr, CompressorParams(5.0, -24.0, 4.0, 6.0, 3.0, 80.0, 4.0)),
        GateModel(sr, GateParams(0.1, 10.0, -12.0, 4.0, 20.0, 2.0, 40.0, 0.5, 5.0, 30.0, 1.0)),
    ]


def test_every_registered_kind_is_covered():
    assert {type(m) for m in _models(48000)} == set(REGISTRY.values())


@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("block", [1, 64, 4097])
def test_block_processing_equals_one_call_and_reset_restarts(sr, block):
    x = np.random.default_rng(1).standard_normal(int(0.3 * sr)).astype(np.float32) * 0.3
    for model in _models(sr):
        whole = model.process(x, sr)
        model.reset()
        blocks = np.concatenate([model.process(x[i : i + block], sr) for i in range(0, len(x), block)])
        np.testing.assert_allclose(blocks, whole, atol=2e-6, err_msg=model.kind)
        model.reset()
        np.testing.assert_array_equal(model.process(x, sr), whole, err_msg=model.kind)


def test_file_round_trip_for_every_kind(tmp_path):
    sr = 48000
    x = np.random.default_rng(2).standard_normal(sr // 4).astype(np.float32) * 0.3
    for model in _models(sr):
        model.info = {"val_esr": 0.01}
        path = save_model(tmp_path / f"{model.kind}.safetensors", model)
        loaded = load_model(path)
        assert type(loaded) is type(model) and loaded.info == {"val_esr": 0.01}
        model.reset()
        np.testing.assert_array_equal(loaded.process(x, sr), model.process(x, sr), err_msg=model.kind)


def _meta(kind: str, config: dict, version: str = "2") -> dict[str, str]:
    return {"format": "readdsp-effect-model", "format_version": version, "kind": kind, "sample_rate": "48000",
            "config": json.dumps(config)}  # fmt: skip


@pytest.mark.parametrize(
    "arrays, meta, problem",
    [
        ({"fir": np.array([1.0, np.nan])}, _meta("fir", {}), "NaN"),
        ({"fir": np.ones(2)}, _meta("fir", {}, "9"), "format version 9"),
        ({"fir": np.ones(2)}, _meta("ring-mod", {}), "unknown effect model kind"),
        ({"lfo_ms": TRIANGLE_MS}, _meta("modulation", {"rate_hz": 1.0, "feedback": 1.5, "dry": 1, "wet": 1}),
         "feedback"),
        ({"lfo_ms": TRIANGLE_MS * 20}, _meta("modulation", {"rate_hz": 1.0, "feedback": 0, "dry": 1, "wet": 1}),
         "delays over"),
        ({}, _meta("compressor", {**CompressorParams(5, -20, 0.5, 6, 3, 80, 0).as_dict()}), "ratio"),
        ({}, _meta("tremolo", {"rate_hz": "fast"}), "not a number"),
        ({}, _meta("gate", {**GateParams(0.1, 10, -30, 6, 50, 2, 150, 1, 20, 80, 0).as_dict()}), "range_db"),
    ],
)  # fmt: skip
def test_bad_numbers_in_a_model_file_are_one_line_errors(tmp_path, arrays, meta, problem):
    path = tmp_path / "bad.safetensors"
    save_file({k: np.asarray(v, np.float64) for k, v in arrays.items()}, str(path), metadata=meta)
    with pytest.raises(ReaDDSPError, match=problem) as err:
        load_model(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_version_1_files_still_load(tmp_path):
    path = tmp_path / "v1.safetensors"
    meta = _meta("fir", {"fir_seconds": 0.1})
    del meta["format_version"]
    save_file({"fir": np.array([0.5, 0.25], np.float32)}, str(path), metadata=meta)
    model = load_model(path)
    np.testing.assert_allclose(model.process(np.array([1.0, 0.0, 0.0]), 48000), [0.5, 0.25, 0.0], atol=1e-6)


def test_chain_is_a_list_of_models_run_in_order():
    sr = 48000
    gain, echo = FirModel(sr, np.array([0.5])), FirModel(sr, np.array([0.0, 0.0, 1.0]))
    chain = EffectChain([gain])
    chain.append(echo)
    assert len(chain) == 2 and chain[1] is echo and list(chain) == [gain, echo]
    x = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    np.testing.assert_allclose(chain.process(x, sr), [0.0, 0.0, 0.5, 1.0], atol=1e-6)
    np.testing.assert_allclose(chain(x, sr), [1.5, 2.0, 0.5, 1.0], atol=1e-6)  # the echo carried 2 samples
    chain.reset()
    np.testing.assert_allclose(chain(x, sr), [0.0, 0.0, 0.5, 1.0], atol=1e-6)
    with pytest.raises(ReaDDSPError, match="holds effect models"):
        EffectChain([np.ones(3)])
    with pytest.raises(ReaDDSPError, match="trained at 48000"):
        chain.process(x, 44100)


def _imports(folder: Path) -> set[tuple[str, str]]:
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add((path.name, node.module))
            elif isinstance(node, ast.Import):
                found.update((path.name, alias.name) for alias in node.names)
    return found


@pytest.mark.parametrize(
    "folder, forbidden",
    [
        ("core/effects", ("readdsp.datasets", "readdsp.training", "readdsp.reaper_ext", "readdsp.ui",
                          "readdsp.scripts")),
        ("datasets", ("readdsp.reaper_ext",)),
        ("reaper_ext", ("readdsp.datasets",)),
    ],
)  # fmt: skip
def test_effect_code_keeps_to_its_layer(folder, forbidden):
    bad = sorted((f, m) for f, m in _imports(ROOT / folder) if m.startswith(forbidden))
    assert not bad, f"{folder} imports {bad}"


@pytest.mark.parametrize("block", [1, 777, 4096])
def test_long_fir_streams_by_partitioned_convolution(block):
    rng = np.random.default_rng(3)
    taps = 0.01 * rng.standard_normal(12000)  # over 4 partitions: the partitioned path
    x = rng.standard_normal(20000).astype(np.float32)
    model = FirModel(48000, taps)
    out = np.concatenate([model.process(x[i : i + block], 48000) for i in range(0, len(x), block)])
    np.testing.assert_allclose(out, apply_fir(taps, x), atol=1e-5)


@pytest.mark.parametrize("block", [777, 4096])
def test_longer_fir_streams_through_two_partition_sizes(block):
    rng = np.random.default_rng(4)
    taps = 0.01 * rng.standard_normal(40000)  # past 2 large partitions: small and large delay lines together
    x = rng.standard_normal(60000).astype(np.float32)
    model = FirModel(48000, taps)
    out = np.concatenate([model.process(x[i : i + block], 48000) for i in range(0, len(x), block)])
    np.testing.assert_allclose(out, apply_fir(taps, x), atol=1e-5)
