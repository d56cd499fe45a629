"""Training end to end on a tiny rendered corpus: every stage, resume from checkpoints, export, and DDP on gloo."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from readdsp.core.bundle import read_bundle_config, write_sidecar
from readdsp.core.features.expression import ExpressionScale
from readdsp.core.performance import Note, Part, Performance
from readdsp.core.render import Renderer
from readdsp.training.band_fit import fit_brightness_bands
from readdsp.training.band_reach import MIN_GAIN_DB

CLI = [sys.executable, "-m", "readdsp.scripts.cli"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1, so two test runs on one machine never collide."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([*args], capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "ds"
    run(
        *CLI,
        "dataset",
        "render-corpus",
        "-o",
        str(out),
        "--instruments",
        "violin,flute",
        "--minutes-per-instrument",
        "0.3",
        "--sources",
        "bach",
        "--sample-rate",
        "16000",
    )
    return out


def test_pipeline_trains_resumes_and_exports_a_renderable_bundle(corpus: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    bundle = tmp_path / "mine.safetensors"
    common = ["--run-dir", str(run_dir), "--batch-size", "2", "--checkpoint-every", "2", "--threads", "1"]
    run(*CLI, "train", "pipeline", str(corpus), *common, "--steps", "2", "-o", str(bundle), "--name", "mine")
    for stage in ("ddsp-inference", "expression-generator", "synthesis-generator"):
        metrics = json.loads((run_dir / stage / "metrics.json").read_text())
        assert metrics["steps"] == 2 and metrics["final_losses"]
        assert all(np.isfinite(v) for v in metrics["final_losses"].values())
    assert len(list((run_dir / "annotations").glob("*.npz"))) == len(
        json.loads((corpus / "manifest.json").read_text())["examples"]
    )
    # the annotations' expression scale was fitted to the corpus, and the bundle carries it
    scale = json.loads((run_dir / "annotations" / "expression_scale.json").read_text())
    assert scale != ExpressionScale().to_dict()
    assert ExpressionScale.from_dict(read_bundle_config(bundle)["expression_scale"]).to_dict() == scale

    # resuming continues from the checkpoint instead of starting over
    run(*CLI, "train", "expression-generator", str(corpus), *common, "--steps", "4")
    history = json.loads((run_dir / "expression-generator" / "history.json").read_text())
    assert [row["step"] for row in history][-1] == 4
    assert json.loads((run_dir / "expression-generator" / "metrics.json").read_text())["steps"] == 4

    # held-out evaluation: Table 1 and Table 2 analogues, and the model card written from them; embedded in the
    # sidecar beside what `readdsp audio-check --embed` put there, which stays
    metrics_path, card = tmp_path / "metrics.json", tmp_path / "card.md"
    exported = json.loads(bundle.with_suffix(".json").read_text())["metrics"]  # export's: the brightness bands'
    write_sidecar(bundle, {"metrics": {**exported, "measured_elsewhere": {"by": "audio-check"}}})
    run(*CLI, "evaluate", str(bundle), str(corpus), "--run-dir", str(run_dir), "--max-windows", "2",
        "-o", str(metrics_path), "--card", str(card), "--embed")  # fmt: skip
    metrics = json.loads(metrics_path.read_text())
    embedded = json.loads(bundle.with_suffix(".json").read_text())["metrics"]
    assert embedded["measured_elsewhere"] == {"by": "audio-check"} and embedded["table1"] == metrics["table1"]
    eg = metrics["table1"]["expression_generator"]
    assert eg["notes"] > 0 and 0 < eg["rmse"] < 1 and 0 < eg["rmse_free_running"] < 1
    assert set(metrics["table2"]) == {"volume", "vol_fluc", "vibrato", "brightness", "attack", "vol_peak_pos"}
    assert all(len(row["response"]) == 11 for row in metrics["table2"].values())
    assert all(row["notes"] > 0 for name, row in metrics["table2"].items() if name != "vibrato")
    vibrato = metrics["table2"]["vibrato"]
    every = vibrato["all_notes"]
    assert vibrato["scored_on"] == "notes over 50 frames" and every["notes_all"] == metrics["table2"]["volume"]["notes"]
    assert vibrato["notes"] == round(every["scored_share"] * every["notes_all"])
    assert (every["pearson_r_perfect_model_all_notes"] == 0.0) == (every["scored_share"] == 0.0)
    assert sum(row["notes"] for row in vibrato["by_source"].values()) == vibrato["notes"]
    assert set(vibrato["by_source"]) == {"bach"}  # the corpus above
    text = card.read_text()
    assert "teacher-forced" in text and "running free" in text and "mean extracted at input 0, 0.5, 1" in text

    # export wrote each instrument's brightness band, fitted on the run's annotated training notes; `train bands`
    # writes the same into a bundle that has none, and refuses a run without annotations, touching nothing
    # (each side past the band's pitches held to its ends only where that comes closer to the source soundfont)
    fitted = {name: band.to_dict() for name, band in fit_brightness_bands(corpus, run_dir / "annotations").items()}
    sidecar = json.loads(bundle.with_suffix(".json").read_text())
    summary = sidecar["metrics"]["brightness_band"]
    assert fitted and set(sidecar["brightness_band"]) == set(fitted) == set(summary["instruments"])  # card's too
    for name, band in sidecar["brightness_band"].items():
        assert all(band[key] == fitted[name][key] for key in ("pitches", "low", "high"))
        for side in ("below", "above"):
            tried = summary["reach"][name].get(side, {"holds": False})
            assert band[f"hold_{side}"] == tried["holds"]
            if tried["holds"]:  # closer on both distances (reported to 0.01 dB)
                gains = np.subtract(tried["unbounded_db"], tried["held_db"])
                assert np.all(gains >= MIN_GAIN_DB - 0.01)
    assert any(summary["reach"][name] for name in fitted)  # the corpus's lines do not span the instruments' ranges
    assert (
        "## Brightness kept within the training data's band" in text
        and "log-mel/envelope dB, unbounded to held" in text
    )
    fitted = sidecar["brightness_band"]
    bare = tmp_path / "bare.safetensors"
    bare.write_bytes(bundle.read_bytes())
    run(*CLI, "train", "bands", str(corpus), "--run-dir", str(run_dir), "-o", str(bare))
    assert json.loads(bare.with_suffix(".json").read_text())["brightness_band"] == fitted
    other = tmp_path / "other.safetensors"
    other.write_bytes(bundle.read_bytes())
    refused = subprocess.run([*CLI, "train", "bands", str(corpus), "--run-dir", str(tmp_path / "none"), "-o",
                              str(other)], capture_output=True, text=True)  # fmt: skip
    assert refused.returncode == 2 and "no annotations here" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and not other.with_suffix(".json").exists()

    renderer = Renderer.load(bundle)
    assert renderer.instruments == ["flute", "violin"] or renderer.instruments == ["violin", "flute"]
    result = renderer.render(Performance([Part("x", 73, notes=[Note(72, 0.0, 0.5)])]), sample_rate=16000)
    assert result.instruments == {"x": "flute"} and np.isfinite(result.mix).all()

    # annotating on a given scale (new data for a trained Synthesis Generator) keeps that scale, not a fitted one
    given = tmp_path / "scale.json"
    given.write_text(json.dumps({"volume_db": [-60.0, -5.0], "attack_db": [-90.0, -50.0]}))
    run(*CLI, "train", "annotate", str(corpus), "--run-dir", str(run_dir), "--threads", "1",
        "--expression-scale", str(given))  # fmt: skip
    assert json.loads((run_dir / "annotations" / "expression_scale.json").read_text()) == json.loads(given.read_text())

    # --seed: the same seed trains the same weights, another seed others
    def weights_after_two_steps(name: str, *seed: str) -> dict:
        seeded = tmp_path / name
        seeded.mkdir()
        (seeded / "annotations").symlink_to(run_dir / "annotations")
        run(*CLI, "train", "expression-generator", str(corpus), "--run-dir", str(seeded), "--batch-size", "2",
            "--steps", "2", "--checkpoint-every", "2", "--threads", "1", *seed)  # fmt: skip
        assert json.loads((seeded / "expression-generator" / "metrics.json").read_text())["seed"] == int(
            seed[1] if seed else 0
        )
        return load_file(str(seeded / "expression-generator" / "ckpt-2.safetensors"))

    first, again, default = (
        weights_after_two_steps(*args) for args in (("a", "--seed", "1"), ("b", "--seed", "1"), ("c",))
    )
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], default[k]) for k in first)


def test_training_runs_unchanged_under_torchrun_ddp(corpus: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "ddp"
    single = tmp_path / "single"
    common = ["--batch-size", "2", "--threads", "1", "--steps", "2", "--checkpoint-every", "2"]
    run(*CLI, "train", "ddsp-inference", str(corpus), "--run-dir", str(single), *common)
    run(*CLI, "train", "annotate", str(corpus), "--run-dir", str(single), "--threads", "1")
    (run_dir).mkdir()
    os.symlink(single / "annotations", run_dir / "annotations")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = run(
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(free_port()),
        "-m",
        "readdsp.scripts.cli",
        "train",
        "expression-generator",
        str(corpus),
        "--run-dir",
        str(run_dir),
        *common,
        env=env,
    )
    assert json.loads(done.stdout)["expression-generator"]["steps"] == 2  # rank 0 prints the summary once
    from safetensors.torch import load_file

    weights = load_file(str(run_dir / "expression-generator" / "ckpt-2.safetensors"))
    assert weights and all(torch.isfinite(t).all() for t in weights.values())


def test_ctrl_c_checkpoints_and_returns_like_a_spent_budget(tmp_path: Path) -> None:
    import signal

    from readdsp.training.checkpoint import load_latest
    from readdsp.training.distributed import DistContext
    from readdsp.training.loop import LoopConfig, run_loop

    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(index: int) -> dict[str, float]:
        if index == 3:
            os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl-C during step 4
        optimizer.zero_grad()
        loss = model(torch.ones(1, 2)).pow(2).mean()
        loss.backward()
        optimizer.step()
        return {"loss": loss.item()}

    before = signal.getsignal(signal.SIGINT)
    result = run_loop("toy", tmp_path, {"model": model}, {"opt": optimizer}, step, LoopConfig(steps=100), DistContext())
    assert result.end_step == 4
    assert signal.getsignal(signal.SIGINT) is before  # the caller's handler is back
    assert load_latest(tmp_path, {"model": torch.nn.Linear(2, 1)}, {}) == 4  # resumable from the stop


def test_validation_keeps_the_best_weights_apart_from_the_latest(tmp_path: Path) -> None:
    from readdsp.training.checkpoint import load_best, load_latest
    from readdsp.training.distributed import DistContext
    from readdsp.training.loop import LoopConfig, run_loop

    model = torch.nn.Linear(1, 1, bias=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)

    def step(index: int) -> dict[str, float]:
        with torch.no_grad():
            model.weight.fill_(float(index + 1))  # the weight counts steps
        return {"loss": 0.0}

    def validate() -> float:
        return abs(model.weight.item() - 3.0)  # best at step 3, worse after

    config = LoopConfig(steps=6, checkpoint_every=1)
    run_loop("toy", tmp_path, {"m": model}, {"opt": optimizer}, step, config, DistContext(), validate=validate)
    best, latest = torch.nn.Linear(1, 1, bias=False), torch.nn.Linear(1, 1, bias=False)
    assert load_best(tmp_path, {"m": best}) == 3 and best.weight.item() == 3.0
    assert load_latest(tmp_path, {"m": latest}) == 6 and latest.weight.item() == 6.0
    scores = [row["validation"] for row in json.loads((tmp_path / "history.json").read_text()) if "validation" in row]
    assert scores == [2.0, 1.0, 0.0, 1.0, 2.0, 3.0]


def test_round_trip_scores_a_control_only_on_notes_it_can_be_measured_on() -> None:
    from readdsp.training.evaluate import SWEEP, ControlSweep

    # three notes swept 0..1: two long ones follow the input exactly, a short one reads the extraction's fixed 0
    inputs = np.repeat(SWEEP, 3)
    long = np.tile([True, True, False], len(SWEEP))
    sweep = ControlSweep(inputs, inputs * long, long)
    scored, every = sweep.scored(), sweep.all_notes()
    assert scored["pearson_r"] == 1.0 and scored["notes"] == 2 and scored["response"] == list(SWEEP)
    assert every["notes_all"] == 3 and every["scored_share"] == round(2 / 3, 4)
    assert 0.0 < every["pearson_r_all_notes"] == every["pearson_r_perfect_model_all_notes"] < 1.0

    # a model that ignores the input scores 0 wherever it is scored
    flat = ControlSweep(inputs, np.full_like(inputs, 0.3) * long, long)
    assert flat.scored()["pearson_r"] == 0.0
    assert flat.pick(~long).scored() == {"pearson_r": 0.0, "notes": 0, "response": [None] * len(SWEEP)}


def test_ddsp_inference_starts_with_live_harmonics_at_a_played_level() -> None:
    from readdsp.core.models.ddsp_inference import DDSPInference, DDSPInferenceConfig
    from readdsp.training.ddsp_inference import make_synth

    torch.manual_seed(0)
    model = DDSPInference(DDSPInferenceConfig(sample_rate=16000, n_harmonics=40))
    frames = 50
    audio = 0.03 * torch.randn(1, frames * 64)
    f0 = torch.full((1, frames), 220.0)
    raw = model(audio, f0, torch.full((1, frames), -30.0), torch.zeros(1, dtype=torch.long))
    controls = make_synth(16000, 40).get_controls(raw["amplitude"], raw["harmonics"], raw["noise"], f0)
    amplitude = float(controls.amplitude.median())
    assert 0.01 < amplitude < 0.1  # far from exp_sigmoid's floor, where its gradient vanishes
    mean_distribution = controls.harmonic_distribution.mean(dim=(0, 1))
    assert mean_distribution[0] > 5 * mean_distribution[20]


def test_annotate_refuses_a_model_whose_harmonics_are_silent(tmp_path: Path) -> None:
    from readdsp.core.errors import ReaDDSPError
    from readdsp.training.ddsp_inference import check_harmonics_alive

    check_harmonics_alive(np.array([-40.0, -35.0, -60.0]), tmp_path)
    with pytest.raises(ReaDDSPError, match="harmonic branch is silent"):
        check_harmonics_alive(np.array([-80.0, -79.5, -40.0]), tmp_path)


def test_expression_generator_batches_hold_short_lines_as_well_as_full_windows() -> None:
    from readdsp.training.expression_generator import NoteSequence, sequence_batch, short_window

    rng = np.random.default_rng(0)
    assert all(1 <= short_window(64, rng) <= 64 for _ in range(500))
    n = 200
    line = NoteSequence(
        np.full(n, 60), np.full(n, 0.5, np.float32), np.full(n, 0.7, np.float32), np.zeros((n, 6), np.float32), 0
    )
    full = sequence_batch([line], 64, 64, rng)["mask"].sum(1)
    mixed = sequence_batch([line], 256, 64, rng, short_share=0.5)["mask"].sum(1)
    assert (full == 64).all()
    assert 0.3 < float((mixed < 64).float().mean()) < 0.7  # about half the rows are cut short
    assert int(mixed.min()) <= 3  # and lines of one to a few notes occur


def test_adapt_fits_only_the_recorded_instruments_and_measures_both_bundles(corpus: Path, tmp_path: Path) -> None:
    from readdsp.core.bundle import load_bundle, save_bundle
    from readdsp.core.models.midi_ddsp import MidiDDSP
    from tests.conftest import random_bundle_config

    torch.manual_seed(0)
    source = save_bundle(tmp_path / "source.safetensors", *_modules_of(MidiDDSP(random_bundle_config())))
    band = {"pitches": [60, 80], "low": [0.2, 0.1], "high": [0.4, 0.3], "hold_below": False, "hold_above": True}
    write_sidecar(source, {"brightness_band": {"flute": band}})  # the source's, kept: its generator is unchanged
    run_dir, adapted = tmp_path / "run", tmp_path / "adapted.safetensors"
    common = ["--batch-size", "2", "--threads", "1", "--steps", "2", "--checkpoint-every", "2"]
    run(*CLI, "train", "ddsp-inference", str(corpus), "--run-dir", str(run_dir), *common)
    done = run(*CLI, "train", "adapt", str(corpus), "--run-dir", str(run_dir), "--bundle", str(source),
               "-o", str(adapted), *common)  # fmt: skip

    # the corpus holds violin and flute: their embedding rows moved, and not one other weight did
    before, after = load_bundle(source), load_bundle(adapted)
    old, new = before.states["synthesis_generator"], after.states["synthesis_generator"]
    names = before.instruments
    moved = [
        name
        for i, name in enumerate(names)
        if not torch.equal(old["instrument.weight"][i], new["instrument.weight"][i])
    ]
    assert moved == ["violin", "flute"]
    assert all(torch.equal(value, new[name]) for name, value in old.items() if name != "instrument.weight")
    assert all(
        torch.equal(value, after.states["expression_generator"][name])
        for name, value in before.states["expression_generator"].items()
    )
    assert after.config["adapted"]["steps"] == 2 and after.config["instruments"] == names
    # adapt annotated the recordings itself, on the bundle's expression scale (the one its generator knows)
    scale = json.loads((run_dir / "annotations" / "expression_scale.json").read_text())
    assert scale == ExpressionScale.from_dict(before.config.get("expression_scale")).to_dict()
    assert set(after.sidecar["calibration"]) == set(names)  # levels measured afresh for the adapted bundle
    assert after.sidecar["vibrato_scale"] == dict.fromkeys(names, 1.0)  # the source's (unfitted) factors
    assert after.sidecar["brightness_band"] == {"flute": band}

    # both bundles measured on the held-out recordings, each beside the soundfonts
    metrics = json.loads((run_dir / "adapt" / "metrics.json").read_text())
    assert json.loads(done.stdout)["bundle"] == str(adapted)
    test_ids = [e["id"] for e in json.loads((corpus / "manifest.json").read_text())["examples"] if e["split"] == "test"]
    for table in metrics["held_out_test"].values():
        assert len(table["recordings"]) == len(test_ids)
        assert all(np.isfinite(row["ours"]["log_mel_db"]) for row in table["recordings"].values())
    assert (
        Renderer.load(adapted)
        .render(Performance([Part("p", 73, instrument="flute", notes=[Note(72, 0.0, 0.5, 90)])]), 16000)
        .mix.any()
    )

    # an instrument the bundle does not play: one line naming the dataset, exit 2
    config = random_bundle_config() | {"instruments": ["cello", "clarinet"]}
    other = save_bundle(tmp_path / "other.safetensors", *_modules_of(MidiDDSP(config)))
    args = ["--run-dir", str(run_dir), "--bundle", str(other), "-o", str(tmp_path / "no.safetensors"), *common]
    refused = subprocess.run([*CLI, "train", "adapt", str(corpus), *args], capture_output=True, text=True)
    assert refused.returncode == 2 and not (tmp_path / "no.safetensors").exists()
    assert "instruments violin, flute are not in the bundle" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    # a bundle at another rate than the dataset's: the rate to rebuild the dataset at
    other = save_bundle(tmp_path / "other.safetensors", *_modules_of(MidiDDSP(random_bundle_config(24000))))
    refused = subprocess.run([*CLI, "train", "adapt", str(corpus), *args], capture_output=True, text=True)
    assert refused.returncode == 2 and "rebuild it with --sample-rate 24000" in refused.stderr

    def refusal(run_name: str, bundle: Path = source) -> str:
        out = ["--run-dir", str(tmp_path / run_name), "--bundle", str(bundle), "-o", str(tmp_path / "no.safetensors")]
        done = subprocess.run([*CLI, "train", "adapt", str(corpus), *out, *common], capture_output=True, text=True)
        assert done.returncode == 2 and not (tmp_path / "no.safetensors").exists()
        return done.stderr

    # no DDSP Inference to annotate with, a bundle with no Synthesis Generator, or annotations on a scale the
    # bundle's generator never learned
    assert "checkpoints/midi_ddsp_48k/ddsp-inference" in refusal("empty")
    guitar = Path(__file__).resolve().parents[1] / "core/bundles/guitar.safetensors"
    assert "adapting instruments (a Synthesis Generator's embedding) needs a midi-ddsp" in refusal("run", guitar)
    (tmp_path / "fitted").mkdir()
    (tmp_path / "fitted" / "ddsp-inference").symlink_to(run_dir / "ddsp-inference")
    run(*CLI, "train", "annotate", str(corpus), "--run-dir", str(tmp_path / "fitted"), "--threads", "1")
    assert "another expression scale than the bundle's" in refusal("fitted")


def _modules_of(model) -> tuple[dict, dict]:
    return model.config, model.bundle_modules()
