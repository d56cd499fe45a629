"""Train the Synthesis Generator: f0 cross-entropy, multi-scale spectral loss, parameter L1, LSGAN, feature matching."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from readdsp.core.losses import MultiScaleSpectralLoss
from readdsp.core.models.discriminator import (
    MultiScaleDiscriminator,
    discriminator_loss,
    generator_adversarial_loss,
)
from readdsp.core.models.f0_classes import N_F0_CLASSES
from readdsp.core.models.synthesis_generator import SynthesisGenerator, SynthesisGeneratorConfig
from readdsp.core.note_frames import FRAME_RATE
from readdsp.core.synth.controls import SynthControls
from readdsp.core.units import amplitude_to_db, hz_to_midi
from readdsp.datasets.cache import open_dataset
from readdsp.training.control_consistency import (
    consistency_loss,
    redraw_controls,
    redrawn_consistency_loss,
)
from readdsp.training.data import crop_batch, load_prepared
from readdsp.training.ddsp_inference import make_synth, read_expression_scale
from readdsp.training.distributed import DistContext, average_gradients, unwrap, wrap_ddp
from readdsp.training.loop import LoopConfig, LoopResult, decay_learning_rate, run_loop


@dataclass
class SynthesisGeneratorTrainConfig:
    """Hyper-parameters. Parameter L1 terms (logged only in the paper) are used as loss here: they make CPU
    training converge in far fewer steps."""

    batch_size: int = 8
    segment_seconds: float = 1.0
    learning_rate: float = 1e-3
    disc_learning_rate: float = 1e-4
    grad_clip: float = 2.5
    param_weight: float = 1.0
    gan_start_step: int = 800
    gan_weight: float = 0.1
    feature_matching_weight: float = 1.0
    spectral_every: int = 2  # the audio path (synth + STFTs) is most of a CPU step; parameter losses run every step
    redrawn_rows: int = 8  # extra rows per batch whose controls are redrawn at random (control consistency only)
    consistency_weight: float = 2.0
    seed: int = 0


def param_vector(f0_hz: torch.Tensor, amplitude: torch.Tensor, distribution: torch.Tensor, noise: torch.Tensor):
    """The discriminator's view of synthesis parameters: [f0 midi/127, amp dB, harmonics, noise dB], all ~[0, 1]."""
    return torch.cat(
        [
            (hz_to_midi(f0_hz) / 127.0).unsqueeze(-1),
            (amplitude_to_db(amplitude) / 80.0 + 1.0).unsqueeze(-1),
            distribution,
            amplitude_to_db(noise) / 80.0 + 1.0,
        ],
        dim=-1,
    )


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    while mask.dim() < x.dim():
        mask = mask.unsqueeze(-1)
    mask = mask.expand_as(x).float()
    return (x * mask).sum() / mask.sum().clamp(min=1.0)


def parameter_l1(
    controls: SynthControls, batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """L1 of generated amplitude (dB / 40), harmonic distribution and noise (dB / 40) against the batch's annotated
    parameters, over its real frames."""
    mask = batch["mask"]
    amp = masked_mean((amplitude_to_db(controls.amplitude) - amplitude_to_db(batch["amplitude"])).abs() / 40.0, mask)
    hd = masked_mean((controls.harmonic_distribution - batch["harmonic_distribution"]).abs().sum(-1), mask)
    noise_db = amplitude_to_db(controls.noise_magnitudes) - amplitude_to_db(batch["noise_magnitudes"])
    return amp, hd, masked_mean(noise_db.abs() / 40.0, mask)


def with_redrawn_rows(
    batch: dict[str, torch.Tensor], n_extra: int, generator: torch.Generator
) -> tuple[dict, list[str]]:
    """The generator's inputs for the batch's rows followed by copies of its first `n_extra` rows with one control
    redrawn (see control_consistency), the frames whose f0 is a target (`voiced`), and each copy's redrawn control."""
    n_extra = min(n_extra, batch["conditioning"].shape[0])
    redrawn, sung_f0, names = redraw_controls(batch["conditioning"][:n_extra], batch["f0_hz"][:n_extra], generator)
    voiced = batch["in_note"] & batch["mask"]
    rows = {
        "conditioning": torch.cat([batch["conditioning"], redrawn]),
        "f0_hz": torch.cat([batch["f0_hz"], sung_f0]),
        "voiced": torch.cat([voiced, voiced[:n_extra]]),
    }
    rows |= {k: torch.cat([batch[k], batch[k][:n_extra]]) for k in ("instrument_id", "base_pitch")}
    return rows, names


def train_synthesis_generator(
    dataset_dir: Path,
    annotations_dir: Path,
    run_dir: Path,
    loop: LoopConfig,
    train: SynthesisGeneratorTrainConfig,
    ctx: DistContext,
    model_config: SynthesisGeneratorConfig | None = None,
) -> tuple[SynthesisGenerator, LoopResult]:
    """Fit the Synthesis Generator on DDSP Inference's annotations of the dataset."""
    dataset = open_dataset(dataset_dir)
    config = model_config or SynthesisGeneratorConfig()
    torch.manual_seed(train.seed)
    model = SynthesisGenerator(config).to(ctx.device)
    model_ddp = wrap_ddp(model, ctx)
    disc = MultiScaleDiscriminator(
        10 + config.z_dim + config.instrument_dim, 2 + config.n_harmonics + config.n_noise_bands
    )
    disc = disc.to(ctx.device)  # called several times per step, so its gradients are averaged by hand, not by DDP
    synth = make_synth(dataset.sample_rate, config.n_harmonics, config.n_noise_bands)
    spectral = MultiScaleSpectralLoss()
    opt_g = torch.optim.Adam(model.parameters(), lr=train.learning_rate)
    opt_d = torch.optim.Adam(disc.parameters(), lr=train.disc_learning_rate, betas=(0.5, 0.9))
    examples = load_prepared(dataset_dir, "train", annotations_dir)
    scale = read_expression_scale(annotations_dir)
    rng = np.random.default_rng(train.seed + 1000 * ctx.rank)
    generator = torch.Generator().manual_seed(train.seed + 1000 * ctx.rank)
    segment_frames = int(train.segment_seconds * FRAME_RATE)

    def step(step_index: int) -> dict[str, float]:
        decay_learning_rate(opt_g, train.learning_rate, step_index)
        b = crop_batch(examples, train.batch_size, segment_frames, rng)
        rows, redrawn = with_redrawn_rows(b, train.redrawn_rows, generator)
        out_all = model_ddp(rows["conditioning"], rows["instrument_id"], rows["base_pitch"], rows["f0_hz"])
        all_controls = synth.get_controls(out_all["amplitude"], out_all["harmonics"], out_all["noise"], rows["f0_hz"])
        n_real = train.batch_size
        measured = (
            rows["conditioning"],
            all_controls.amplitude,
            all_controls.harmonic_distribution,
            all_controls.noise_magnitudes,
        )
        consistency = consistency_loss(*(t[:n_real] for t in measured), scale=scale) + redrawn_consistency_loss(
            *(t[n_real:] for t in measured), redrawn, scale
        )
        out = {k: v[:n_real] for k, v in out_all.items()}
        controls = SynthControls(**{k: v[:n_real] for k, v in all_controls.to_dict().items()})
        voiced = rows["voiced"][:, :: config.frame_stride]  # f0 is predicted per strided frame
        ce = F.cross_entropy(
            out_all["f0_logits"].reshape(-1, N_F0_CLASSES), out_all["f0_target"].reshape(-1), reduction="none"
        ).reshape(voiced.shape)
        # Sung rows are scored apart, as consistency scores redrawn rows: among all rows' frames they are a few percent
        sung = torch.tensor([False] * n_real + [name == "vibrato" for name in redrawn])
        f0_ce = masked_mean(ce[~sung], voiced[~sung])
        f0_ce_sung = masked_mean(ce[sung], voiced[sung]) if sung.any() else ce.sum() * 0.0
        amp_l1, hd_l1, noise_l1 = parameter_l1(controls, b)
        loss = f0_ce + f0_ce_sung + train.param_weight * (amp_l1 + hd_l1 + noise_l1)
        loss = loss + train.consistency_weight * consistency
        losses = {"f0_ce": f0_ce.item(), "amp": amp_l1.item(), "hd": hd_l1.item(), "noise": noise_l1.item()}
        losses["f0_ce_sung"] = f0_ce_sung.item()
        losses["consistency"] = consistency.item()
        if step_index % train.spectral_every == 0:
            audio = synth.get_signal(controls, n_samples=b["audio"].shape[1])
            spec = spectral(audio, b["audio"])
            loss = loss + spec
            losses["spectral"] = spec.item()
        if step_index >= train.gan_start_step:
            cond = torch.cat([b["conditioning"], out["z"]], dim=-1)
            fake = param_vector(
                b["f0_hz"], controls.amplitude, controls.harmonic_distribution, controls.noise_magnitudes
            )
            real = param_vector(b["f0_hz"], b["amplitude"], b["harmonic_distribution"], b["noise_magnitudes"])
            d_loss = discriminator_loss(disc(cond.detach(), real), disc(cond.detach(), fake.detach()))
            opt_d.zero_grad()
            d_loss.backward()
            average_gradients(disc, ctx)
            opt_d.step()
            adv, fm = generator_adversarial_loss(disc(cond.detach(), real), disc(cond, fake))
            loss = loss + train.gan_weight * adv + train.feature_matching_weight * train.gan_weight * fm
            losses.update(disc=d_loss.item(), adv=adv.item())
        opt_g.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), train.grad_clip)
        opt_g.step()
        return losses

    result = run_loop(
        "synthesis-generator",
        run_dir,
        {"synthesis_generator": model, "discriminator": disc},
        {"generator": opt_g, "discriminator": opt_d},
        step,
        loop,
        ctx,
    )
    return unwrap(model_ddp), result
