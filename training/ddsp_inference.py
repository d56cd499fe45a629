"""Train DDSP Inference on spectral loss, then annotate a dataset with its parameters and extracted expression."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from readdsp.core.atomic import write_json
from readdsp.core.errors import ReaDDSPError
from readdsp.core.features import extract_expression, frame_features
from readdsp.core.features.expression import ATTACK_FRAMES, ExpressionScale
from readdsp.core.losses import MultiScaleSpectralLoss
from readdsp.core.models.ddsp_inference import DDSPInference, DDSPInferenceConfig
from readdsp.core.note_frames import FRAME_RATE, note_spans
from readdsp.core.synth import DDSPSynth
from readdsp.datasets.cache import Example, open_dataset
from readdsp.training.data import Annotation, crop_batch, load_prepared
from readdsp.training.distributed import DistContext, unwrap, wrap_ddp
from readdsp.training.loop import LoopConfig, LoopResult, decay_learning_rate, run_loop


@dataclass
class DDSPInferenceTrainConfig:
    """Hyper-parameters (the paper: batch 16 of 4 s, Adam 3e-4, clip 2.5; 1-s crops here for CPU speed)."""

    batch_size: int = 8
    segment_seconds: float = 1.0
    learning_rate: float = 1e-3
    grad_clip: float = 2.5
    seed: int = 0


def make_synth(sample_rate: int, n_harmonics: int = 100, n_noise_bands: int = 65) -> DDSPSynth:
    """The dry synth the models train through. The training audio is dry (FluidSynth with reverb and chorus off, or
    the user's own takes), so there is no reverb to learn: a learned IR on dry data can only act as a long filter
    that carries the sound, which is what the 24 kHz bundle's did."""
    return DDSPSynth(sample_rate, frame_rate=FRAME_RATE, n_harmonics=n_harmonics, n_noise_bands=n_noise_bands)


def train_ddsp_inference(
    dataset_dir: Path,
    run_dir: Path,
    loop: LoopConfig,
    train: DDSPInferenceTrainConfig,
    ctx: DistContext,
    model_config: DDSPInferenceConfig | None = None,
) -> tuple[DDSPInference, LoopResult]:
    """Fit DDSP Inference so that synth(params(audio)) reconstructs the audio (multi-scale spectral loss)."""
    dataset = open_dataset(dataset_dir)
    config = model_config or DDSPInferenceConfig(sample_rate=dataset.sample_rate)
    torch.manual_seed(train.seed)
    model = DDSPInference(config).to(ctx.device)
    model_ddp = wrap_ddp(model, ctx)
    synth = make_synth(config.sample_rate, config.n_harmonics, config.n_noise_bands)
    loss_fn = MultiScaleSpectralLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=train.learning_rate)
    examples = load_prepared(dataset_dir, "train")
    rng = np.random.default_rng(train.seed + 1000 * ctx.rank)
    segment_frames = int(train.segment_seconds * FRAME_RATE)

    def step(step_index: int) -> dict[str, float]:
        decay_learning_rate(optimizer, train.learning_rate, step_index)
        batch = crop_batch(examples, train.batch_size, segment_frames, rng)
        raw = model_ddp(batch["audio"], batch["f0_hz"], batch["loudness_db"], batch["instrument_id"])
        controls = synth.get_controls(raw["amplitude"], raw["harmonics"], raw["noise"], batch["f0_hz"])
        audio = synth.get_signal(controls, n_samples=batch["audio"].shape[1])
        loss = loss_fn(audio, batch["audio"])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), train.grad_clip)
        optimizer.step()
        return {"spectral": loss.item()}

    result = run_loop("ddsp-inference", run_dir, {"ddsp_inference": model}, {"adam": optimizer}, step, loop, ctx)
    return unwrap(model_ddp), result


SCALE_FILE = "expression_scale.json"


def read_expression_scale(annotations_dir: Path) -> ExpressionScale:
    """The scale a run's annotations were extracted with (the reference's for runs that predate the file)."""
    path = annotations_dir / SCALE_FILE
    return ExpressionScale.from_dict(json.loads(path.read_text()) if path.is_file() else None)


@torch.no_grad()
def annotate_dataset(
    model: DDSPInference,
    dataset_dir: Path,
    out_dir: Path,
    chunk_frames: int = 2500,
    scale: ExpressionScale | None = None,
) -> None:
    """Run DDSP Inference over every example and save its scaled parameters; then fit the expression scale to the
    training split's note statistics (`ExpressionScale.from_data`), or take `scale` as given, and store every
    note's extracted expression.

    A given `scale` keeps the controls' meaning: new data annotated on the scale a Synthesis Generator was trained
    on can train an Expression Generator for it. Parameters are kept per example (`params/`), so a rerun only
    redoes the expression pass.
    """
    model.eval()
    dataset = open_dataset(dataset_dir)
    synth = make_synth(model.config.sample_rate, model.config.n_harmonics, model.config.n_noise_bands)
    hop = model.config.sample_rate // FRAME_RATE
    params_dir = out_dir / "params"
    params_dir.mkdir(parents=True, exist_ok=True)
    examples = list(dataset.iter_examples())
    for example in tqdm(examples, desc="annotate"):
        target = params_dir / f"{example.id}.npz"
        if target.is_file():
            continue
        inst = torch.tensor([dataset.instrument_id(example.instrument)])
        n_frames = len(example.f0_hz)
        parts = []
        for start in range(0, n_frames, chunk_frames):
            stop = min(start + chunk_frames, n_frames)
            audio = torch.from_numpy(example.audio[start * hop : stop * hop]).float()[None]
            audio = torch.nn.functional.pad(audio, (0, (stop - start) * hop - audio.shape[1]))
            f0 = torch.from_numpy(np.maximum(example.f0_hz[start:stop], 1.0)).float()[None]
            loud = torch.from_numpy(example.loudness_db[start:stop]).float()[None]
            raw = model(audio, f0, loud, inst)
            parts.append(synth.get_controls(raw["amplitude"], raw["harmonics"], raw["noise"], f0))
        amplitude = torch.cat([c.amplitude for c in parts], 1)[0].numpy()
        distribution = torch.cat([c.harmonic_distribution for c in parts], 1)[0].numpy()
        noise = torch.cat([c.noise_magnitudes for c in parts], 1)[0].numpy()
        Annotation(amplitude, distribution, noise, np.zeros((0, 6), np.float32)).save(target)

    def note_rows(example: Example) -> list[tuple[int, int, int]]:
        notes = example.note_list()
        spans = note_spans(notes, len(example.f0_hz))
        return [(n.pitch, int(s), int(e)) for n, (s, e) in zip(notes, spans, strict=True)]

    statistics = [
        note_statistics(Annotation.load(params_dir / f"{ex.id}.npz"), note_rows(ex))
        for ex in examples
        if ex.split == "train"
    ]
    volume_db, attack_db = (np.concatenate(column) for column in zip(*statistics, strict=True))
    check_harmonics_alive(volume_db, dataset_dir)
    scale = scale or ExpressionScale.from_data(volume_db, attack_db)
    write_json(out_dir / SCALE_FILE, scale.to_dict())
    for example in tqdm(examples, desc="expression"):
        params = Annotation.load(params_dir / f"{example.id}.npz")
        rows = note_rows(example)
        expression = extract_expression(
            example.f0_hz, params.amplitude, params.harmonic_distribution, params.noise_magnitudes, rows, scale=scale
        )
        params.expression = np.asarray(expression, np.float32)
        params.save(out_dir / f"{example.id}.npz")


SILENT_HARMONICS_DB = -75.0


def check_harmonics_alive(volume_db: np.ndarray, dataset_dir: Path) -> None:
    """Refuse annotations whose notes are made by the noise alone: their volume would all read as the floor."""
    median = float(np.median(volume_db)) if volume_db.size else float("-inf")
    if not median > SILENT_HARMONICS_DB:
        raise ReaDDSPError(
            f"DDSP Inference's harmonic amplitude has a median of {median:.1f} dB over the notes "
            f"(under {SILENT_HARMONICS_DB:.0f} dB): its harmonic branch is silent, so train it further or afresh "
            "before annotating",
            dataset_dir,
        )


def note_statistics(params: Annotation, rows: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Per note, the raw statistics that volume and attack scale: mean amplitude dB, mean noise dB at the onset."""
    features = frame_features(params.amplitude, params.harmonic_distribution, params.noise_magnitudes)
    volume, attack = [], []
    for pitch, start, stop in rows:
        if pitch > 0 and stop - start >= 2:
            volume.append(features["amplitude"][start:stop].mean())
            attack.append(features["noise_level"][start : min(stop, start + ATTACK_FRAMES)].mean())
    return np.asarray(volume), np.asarray(attack)
