"""Adapt a bundle's instruments to recordings of real players: only those instruments' embedding rows train."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from readdsp.core.bundle import Bundle, require_family, save_bundle, write_sidecar
from readdsp.core.errors import ReaDDSPError
from readdsp.core.features.expression import ExpressionScale
from readdsp.core.losses import MultiScaleSpectralLoss
from readdsp.core.models.f0_classes import N_F0_CLASSES
from readdsp.core.models.midi_ddsp import MidiDDSP
from readdsp.core.note_frames import FRAME_RATE
from readdsp.core.synth.controls import SynthControls
from readdsp.datasets.cache import open_dataset
from readdsp.training.checkpoint import load_best
from readdsp.training.control_consistency import consistency_loss
from readdsp.training.data import PreparedExample, crop_batch, load_prepared
from readdsp.training.ddsp_inference import annotate_dataset, make_synth, read_expression_scale
from readdsp.training.distributed import DistContext
from readdsp.training.loop import LoopConfig, LoopResult, decay_learning_rate, run_loop
from readdsp.training.pipeline import RunLayout, load_ddsp_inference
from readdsp.training.synthesis_generator import masked_mean, parameter_l1

STAGE = "adapt"
#: Validation windows per validation example (drawn once, the same at every checkpoint).
VALIDATION_WINDOWS = 4


@dataclass
class AdaptTrainConfig:
    """Hyper-parameters. The spectral loss runs every step: the recordings, not DDSP Inference's reading of them,
    are what the instrument should come to sound like."""

    batch_size: int = 8
    segment_seconds: float = 1.0
    learning_rate: float = 3e-3
    param_weight: float = 1.0
    spectral_weight: float = 1.0
    consistency_weight: float = 2.0
    seed: int = 0


def bundle_rows(bundle_instruments: list[str], dataset_instruments: list[str], where: Path) -> list[int]:
    """The bundle's embedding row of each dataset instrument, by name."""
    unknown = [name for name in dataset_instruments if name not in bundle_instruments]
    if unknown:
        raise ReaDDSPError(
            f"instruments {', '.join(unknown)} are not in the bundle ({', '.join(bundle_instruments)}); "
            "a dataset to adapt them to names them as the bundle does (from-pairs: --instrument NAME)",
            where,
        )
    return [bundle_instruments.index(name) for name in dataset_instruments]


def annotations_on_bundle_scale(source: Bundle, dataset_dir: Path, run_dir: Path) -> Path:
    """The run's annotations of the dataset, made now (by the run's DDSP Inference) if absent, on the bundle's
    expression scale: the controls must mean to the Synthesis Generator what they meant when it was trained."""
    require_family(source, "midi-ddsp", "adapting instruments (a Synthesis Generator's embedding)")
    run = RunLayout(run_dir)
    wanted = ExpressionScale.from_dict(source.config.get("expression_scale"))
    if not run.annotations.is_dir():
        if not (run.stage("ddsp-inference") / "latest.json").is_file():
            raise ReaDDSPError(
                "no DDSP Inference checkpoint to annotate the recordings with; copy in the one the bundle's data was "
                "annotated with (for midi_ddsp_48k: checkpoints/midi_ddsp_48k/ddsp-inference)",
                run.stage("ddsp-inference"),
            )
        annotate_dataset(
            load_ddsp_inference(run, source.config["sample_rate"]), dataset_dir, run.annotations, scale=wanted
        )
    if read_expression_scale(run.annotations).to_dict() != wanted.to_dict():
        raise ReaDDSPError(
            "these annotations were made on another expression scale than the bundle's; remove them to annotate "
            "again on the bundle's",
            run.annotations,
        )
    return run.annotations


def _bundle_examples(dataset_dir: Path, split: str, annotations_dir: Path, rows: list[int]) -> list[PreparedExample]:
    examples = load_prepared(dataset_dir, split, annotations_dir)
    for example in examples:
        example.instrument_id = rows[example.instrument_id]
    return examples


def adapt_bundle(
    bundle: Bundle,
    dataset_dir: Path,
    annotations_dir: Path,
    run_dir: Path,
    loop: LoopConfig,
    train: AdaptTrainConfig,
    ctx: DistContext,
) -> tuple[MidiDDSP, LoopResult]:
    """Fit the embedding rows of the dataset's instruments to its recordings; every other weight stays as it is.
    Returns the model with the best-on-validation rows (the latest when the dataset has no validation split)."""
    model = MidiDDSP.from_bundle(bundle)
    dataset = open_dataset(dataset_dir)
    if dataset.sample_rate != model.sample_rate:
        raise ReaDDSPError(
            f"the dataset is at {dataset.sample_rate} Hz and the bundle at {model.sample_rate} Hz; rebuild it with "
            f"--sample-rate {model.sample_rate}",
            dataset_dir,
        )
    rows = bundle_rows(list(model.instruments), list(dataset.instruments), dataset_dir)
    sg = model.synthesis_generator
    sg.train()
    for parameter in sg.parameters():
        parameter.requires_grad_(False)
    embedding = sg.instrument.weight
    embedding.requires_grad_(True)
    trained_rows = torch.zeros(embedding.shape[0], 1)
    trained_rows[rows] = 1.0
    # Adam leaves a row whose gradient was always zero exactly where it was: the other instruments do not move
    embedding.register_hook(lambda grad: grad * trained_rows)
    opt = torch.optim.Adam([embedding], lr=train.learning_rate)
    synth = make_synth(dataset.sample_rate, sg.config.n_harmonics, sg.config.n_noise_bands)
    spectral = MultiScaleSpectralLoss()
    examples = _bundle_examples(dataset_dir, "train", annotations_dir, rows)
    if not examples:
        raise ReaDDSPError("the dataset has no training examples", dataset_dir)
    held_out = _bundle_examples(dataset_dir, "validation", annotations_dir, rows)
    scale = read_expression_scale(annotations_dir)
    torch.manual_seed(train.seed)
    rng = np.random.default_rng(train.seed)
    segment_frames = int(train.segment_seconds * FRAME_RATE)
    validation_batch = (
        crop_batch(held_out, VALIDATION_WINDOWS * len(held_out), segment_frames, np.random.default_rng(train.seed))
        if held_out
        else None
    )

    def signal(batch: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], SynthControls]:
        out = sg(batch["conditioning"], batch["instrument_id"], batch["base_pitch"], batch["f0_hz"])
        return out, synth.get_controls(out["amplitude"], out["harmonics"], out["noise"], batch["f0_hz"])

    def step(step_index: int) -> dict[str, float]:
        decay_learning_rate(opt, train.learning_rate, step_index)
        b = crop_batch(examples, train.batch_size, segment_frames, rng)
        out, controls = signal(b)
        voiced = (b["in_note"] & b["mask"])[:, :: sg.config.frame_stride]
        ce = F.cross_entropy(out["f0_logits"].reshape(-1, N_F0_CLASSES), out["f0_target"].reshape(-1), reduction="none")
        f0_ce = masked_mean(ce.reshape(voiced.shape), voiced)
        amp_l1, hd_l1, noise_l1 = parameter_l1(controls, b)
        # Measured on the notes complete inside a window: long held notes often have none, and then it is 0
        consistency = consistency_loss(
            b["conditioning"],
            controls.amplitude,
            controls.harmonic_distribution,
            controls.noise_magnitudes,
            scale=scale,
        )
        spec = spectral(synth.get_signal(controls, n_samples=b["audio"].shape[1]), b["audio"])
        loss = f0_ce + train.param_weight * (amp_l1 + hd_l1 + noise_l1) + train.spectral_weight * spec
        loss = loss + train.consistency_weight * consistency
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses = {"f0_ce": f0_ce, "amp": amp_l1, "hd": hd_l1, "noise": noise_l1, "spectral": spec}
        losses["consistency"] = consistency
        return {name: value.item() for name, value in losses.items()}

    @torch.no_grad()
    def validate() -> float:
        """The spectral loss on the validation split's fixed windows."""
        _, controls = signal(validation_batch)
        return spectral(
            synth.get_signal(controls, n_samples=validation_batch["audio"].shape[1]), validation_batch["audio"]
        ).item()

    modules = {"synthesis_generator": sg}
    result = run_loop(STAGE, run_dir, modules, {STAGE: opt}, step, loop, ctx, validate if held_out else None)
    load_best(run_dir, modules)
    sg.eval()
    return model, result


def export_adapted(model: MidiDDSP, out: Path, adapted: dict) -> Path:
    """The adapted model as a bundle: its config records what was adapted, and its sidecar holds the levels measured
    afresh (an adapted instrument's level moves with its timbre; the source's figures describe the source) and the
    source's vibrato factors and brightness bands (its Expression Generator is unchanged)."""
    from readdsp.core.render import Renderer
    from readdsp.training.calibration import calibrate
    from readdsp.training.reference_renders import source_soundfont

    config = {**model.config, "adapted": adapted}
    path = save_bundle(out, config, model.bundle_modules())
    gains = calibrate(Renderer(model, path), source_soundfont=source_soundfont(model.config))["gains_db"]
    generator = {  # the source's: its Expression Generator is unchanged
        "vibrato_scale": model.vibrato_scale,
        "brightness_band": {name: band.to_dict() for name, band in model.brightness_band.items()},
    }
    write_sidecar(path, {"calibration": gains, **generator})
    return path
