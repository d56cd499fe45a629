"""The per-instrument factor on the generated vibrato: read from the sidecar, applied, and fitted to real notes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from readdsp.core.bundle import load_bundle, sidecar_path, vibrato_scales, write_sidecar
from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import CONTROL_NAMES, Note, Part, Performance
from readdsp.core.render import Renderer
from readdsp.training.vibrato_fit import SCALE_STEP, fit_monotone

VIBRATO = CONTROL_NAMES.index("vibrato")


def line() -> Performance:
    notes = [Note(64 + i, 0.6 * i, 0.6 * i + 0.5, 80) for i in range(4)] + [Note(72, 2.4, 5.0, 90)]
    return Performance([Part("p", 40, instrument="violin", notes=notes)])


def generated(renderer: Renderer) -> np.ndarray:
    return np.array([n.expression for n in renderer.generate_expression(line()).parts[0].notes])


def test_the_sidecar_factor_scales_one_instrument_s_generated_vibrato(random_bundle, tmp_path) -> None:
    copy = tmp_path / random_bundle.name
    copy.write_bytes(random_bundle.read_bytes())
    plain = generated(Renderer.load(copy))
    assert vibrato_scales(load_bundle(copy)) == dict.fromkeys(load_bundle(copy).instruments, 1.0)
    write_sidecar(copy, {"vibrato_scale": {"violin": 0.5, "cello": 2.0}})
    halved = generated(Renderer.load(copy))
    assert np.allclose(halved[:, VIBRATO], plain[:, VIBRATO] * 0.5, atol=1e-6) and plain[:, VIBRATO].max() > 0.05
    others = [i for i in range(len(CONTROL_NAMES)) if i != VIBRATO]
    assert np.array_equal(halved[:, others], plain[:, others])  # the other five controls are the network's
    for bad in ("wide", float("nan"), -0.1, 2.5, True):
        sidecar_path(copy).write_text(json.dumps({"vibrato_scale": {"violin": bad}}))
        with pytest.raises(ReaDDSPError, match="vibrato_scale for 'violin' must be a number in 0..2"):
            Renderer.load(copy)
    sidecar_path(copy).write_text(json.dumps({"vibrato_scale": [0.5]}))
    with pytest.raises(ReaDDSPError, match="vibrato_scale must be an object"):
        Renderer.load(copy)


def test_fit_finds_where_a_rising_spread_meets_its_target() -> None:
    calls = []

    def spread_at(scale: float) -> float:
        calls.append(scale)
        return 2.0 + 10.0 * scale

    assert abs(fit_monotone(spread_at, 7.0) - 0.5) <= SCALE_STEP
    assert len(calls) <= 8  # bisection, not a sweep: each call renders every note
    assert fit_monotone(spread_at, 1.0) == 0.0 and fit_monotone(spread_at, 40.0) == 2.0


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="needs the fluidsynth program")
def test_audio_check_fits_the_factor_to_a_dataset_of_notes(random_bundle, tmp_path: Path, capsys) -> None:
    from readdsp.scripts.cli import main
    from tests.test_dataset_notes import write_note

    for name, pitch in (("A4", 69), ("E5", 76)):
        write_note(tmp_path / "notes" / "violin" / f"{name}.wav", pitch, 40, onset=0.2, offset=2.2)
    assert main(["dataset", "from-notes", str(tmp_path / "notes"), "-o", str(tmp_path / "ds")]) == 0
    copy = tmp_path / random_bundle.name
    copy.write_bytes(random_bundle.read_bytes())
    out = tmp_path / "fit.json"

    def fit_from(dataset: str) -> int:
        args = ["--no-phrases", "--vibrato-from", str(tmp_path / dataset), "-o", str(out)]
        return main(["audio-check", str(copy), *args])

    assert fit_from("ds") == 0
    fit = json.loads(out.read_text())["vibrato_fit"]["instruments"]
    assert list(fit) == ["violin"] and fit["violin"]["notes"] == 2
    assert fit["violin"]["real_cents"] > 1.0  # FluidR3_GM's violin sample sings a vibrato of its own
    assert all(np.isfinite(fit["violin"][key]) for key in ("ours_before_cents", "ours_after_cents"))
    scale = vibrato_scales(load_bundle(copy))
    assert scale["violin"] == fit["violin"]["scale"] and 0.0 <= scale["violin"] <= 2.0
    assert scale["cello"] == 1.0  # no cello notes: its vibrato stays the network's

    # fitting the violin again leaves the factor another dataset gave the cello; a dataset of none of the bundle's
    # instruments is refused before the sidecar changes
    write_sidecar(copy, {"vibrato_scale": scale | {"cello": 0.7}})
    assert fit_from("ds") == 0
    assert vibrato_scales(load_bundle(copy))["cello"] == 0.7
    shutil.move(tmp_path / "notes" / "violin", tmp_path / "notes" / "oboe")
    assert main(["dataset", "from-notes", str(tmp_path / "notes"), "-o", str(tmp_path / "oboe")]) == 0
    before = sidecar_path(copy).read_text()
    assert fit_from("oboe") == 2
    assert sidecar_path(copy).read_text() == before

    # the guitar (style-DDSP) has no Expression Generator vibrato to scale: refused, its sidecar untouched
    guitar = tmp_path / "guitar.safetensors"
    shutil.copy(Path(__file__).resolve().parents[1] / "core/bundles/guitar.safetensors", guitar)
    args = ["--no-phrases", "--vibrato-from", str(tmp_path / "ds"), "-o", str(out)]
    capsys.readouterr()
    assert main(["audio-check", str(guitar), *args]) == 2 and not sidecar_path(guitar).exists()
    assert (
        "fitting vibrato factors (an Expression Generator's vibrato) needs a midi-ddsp bundle; this is a style-ddsp"
        in capsys.readouterr().err
    )
