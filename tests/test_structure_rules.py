"""Issue 15's rules that a grep can check: one home per conversion, one clip place, a lean default install."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import numpy as np
import pytest
from packaging.requirements import Requirement

from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import Note, Part, checked_controls

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "training", "datasets", "reaper_ext", "ui", "scripts")
#: pattern -> the one file allowed to hold it (repository-relative)
ONE_HOME = {
    r"\b440(\.0)?\b": "core/units.py",  # MIDI <-> Hz
    r"\b20(\.0)?\s*\*\s*(np|torch)\.log10": "core/units.py",  # amplitude -> dB
    r"^\s*(import soxr|from soxr)": "core/resample.py",  # the one resampler
    r"librosa\.resample|resample_poly|signal\.resample|import torchaudio": "",  # no other resampler anywhere
    r"^class TempoMap\b": "core/tempo_map.py",
    r"^def (sha256\w*|\w*_sha256)\(": "core/hashing.py",  # file hashing
    r"^def (safe_file_stem|slugify|sanitize\w*|sanitise\w*)\(": "core/output_path.py",
    r"^def checked_controls\(": "core/performance.py",
}


def package_sources() -> list[Path]:
    return [p for name in PACKAGES for p in (ROOT / name).rglob("*.py") if "actions" not in p.parts]


@pytest.mark.parametrize("pattern", sorted(ONE_HOME))
def test_each_conversion_has_one_home(pattern: str) -> None:
    home = ONE_HOME[pattern]
    found = sorted(
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in package_sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(pattern, line) and path.relative_to(ROOT).as_posix() != home
    )
    assert not found, "\n".join(found)


def test_checked_controls_clip_to_the_unit_range_and_reject_what_is_not_a_finite_number() -> None:
    assert checked_controls([-0.5, 0.25, 1.5]).tolist() == [0.0, 0.25, 1.0]
    assert checked_controls(np.array([[2, -1]], dtype=np.int64)).tolist() == [[1.0, 0.0]]
    for bad, problem in [(float("nan"), "finite"), (np.array([0.1, np.inf]), "finite"), ([0.1, "x"], "not a number")]:
        with pytest.raises(ReaDDSPError, match=problem):
            checked_controls(bad, "somewhere")
    with pytest.raises(ReaDDSPError, match="not a number"):
        checked_controls([True, 0.5])
    note = Note(60, 0.0, 1.0)
    with pytest.raises(ReaDDSPError, match="finite"):
        note.set_controls(vibrato=float("nan"))
    part = Part("p", 0, notes=[Note(60, 0.0, 1.0), Note(62, 1.0, 2.0)])
    with pytest.raises(ReaDDSPError, match="finite"):
        part.set_expression_matrix(np.array([[0.5] * 6, [np.inf] * 6]))


def _closure(requirements: list[str]) -> set[str]:
    """Names of the installed distributions `requirements` pull in (no extras), by their metadata."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        name = requirement.name.lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            needs = distribution(requirement.name).requires or []
        except PackageNotFoundError:
            continue
        todo += [r for r in map(Requirement, needs) if not r.marker or r.marker.evaluate({"extra": ""})]
    return seen


def test_default_install_pulls_no_training_stack() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pulled = _closure(project["dependencies"])
    training_only = {"pytorch-lightning", "lightning", "tensorboard", "transformers", "neural-amp-modeler"}
    assert not pulled & (training_only | {"music21", "partitura"})
    extras = project["optional-dependencies"]
    assert any(r.startswith("neural-amp-modeler") for r in extras["effects"])
    assert {Requirement(r).name for r in extras["train"]} >= {"music21", "partitura"}
    assert "readdsp[effects,train]" in extras["test"]  # the test command installs every extra


def test_a_missing_extra_is_one_line_naming_it(monkeypatch, tmp_path) -> None:
    from readdsp.core.effects.nam_model import MISSING_NAM
    from readdsp.datasets.note_sources import MISSING_MUSIC21, bach_pieces
    from readdsp.training.performance_data import MISSING_PARTITURA, vienna_pieces

    assert "readdsp[effects]" in MISSING_NAM
    for module, call, message in [
        ("music21", lambda: next(iter(bach_pieces(seed=0))), MISSING_MUSIC21),
        ("partitura", lambda: next(iter(vienna_pieces(tmp_path))), MISSING_PARTITURA),
    ]:
        monkeypatch.setitem(sys.modules, module, None)  # the package is not installed
        with pytest.raises(ReaDDSPError) as caught:
            call()
        assert str(caught.value) == message and "\n" not in message and "readdsp[train]" in message


def test_training_outputs_are_ignored_by_git() -> None:
    import shutil
    import subprocess

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    outputs = [
        "runs/mine/synthesis-generator/ckpt-100.safetensors",
        "runs/mine/synthesis-generator/optim-100.safetensors",
        "data_cache/corpus/manifest.json",
        "checkpoints/midi_ddsp_48k/ddsp-inference/optim-4298.safetensors",
        "checkpoints/midi_ddsp_48k/ddsp-inference/ckpt-4298.tmp",
        "out/example.wav",
    ]
    done = subprocess.run(["git", "check-ignore", *outputs], cwd=ROOT, capture_output=True, text=True, check=False)
    assert sorted(done.stdout.split()) == sorted(outputs)


def test_metrics_live_beside_the_weights_and_rescoring_never_rewrites_them(tmp_path) -> None:
    from readdsp.core.bundle import load_bundle, save_bundle, write_sidecar
    from readdsp.core.performance_model import FAMILY, build_networks

    path = save_bundle(tmp_path / "perf.safetensors", {"model": FAMILY, "hidden": 8}, build_networks(8))
    weights = path.read_bytes()
    write_sidecar(path, {"metrics": {"test": {"mae": 1.0}}})
    write_sidecar(path, {"metrics": {"test": {"mae": 0.5}}, "note": "re-scored"})
    assert path.read_bytes() == weights
    bundle = load_bundle(path)
    assert bundle.sidecar == {"metrics": {"test": {"mae": 0.5}}, "note": "re-scored"}
    assert bundle.family == FAMILY and bundle.header["model_family"] == FAMILY


SHIPPED = sorted(p.stem for p in (ROOT / "core" / "bundles").glob("*.safetensors"))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_bundle_has_its_header_card_and_sidecar(name: str) -> None:
    from readdsp.core.bundle import load_bundle

    path = ROOT / "core" / "bundles" / f"{name}.safetensors"
    assert path.with_suffix(".md").is_file(), "no model card beside the weights"
    header = load_bundle(path).header
    assert {"format", "model_family", "package_version", "created", "content_sha256"} <= set(header)
    assert path.with_suffix(".json").is_file(), "no sidecar (metrics) beside the weights"
