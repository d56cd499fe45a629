"""Train a style-DDSP instrument on a from-project dataset: voices rendered through the dry synth, summed, and
compared with the recording by the multi-scale spectral loss; then export it as a bundle.

Each example's notes are split into voices (`core.voices.assign_voices`); every voice gets its MIDI frames
(`core.style_frames`), with the example's CC and bend lanes. A training window is `window_s` of audio; the decoder
sees `receptive_field` frames of context before it, whose outputs are dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from readdsp.core.bundle import save_bundle
from readdsp.core.control_lanes import ControlLanes
from readdsp.core.errors import ReaDDSPError
from readdsp.core.losses import MultiScaleSpectralLoss
from readdsp.core.models.style_ddsp import StyleDDSP, StyleDecoderConfig
from readdsp.core.note_frames import FRAME_RATE, n_frames_for
from readdsp.core.performance import Part
from readdsp.core.style_frames import DEFAULT_STYLE_CCS, StyleCC, input_channels
from readdsp.core.voices import assign_voices, voice_notes
from readdsp.datasets.cache import Example, open_dataset
from readdsp.training.distributed import DistContext
from readdsp.training.loop import LoopConfig, decay_learning_rate, run_loop, total_wall_time

GATE = 1  # the gate channel's index in the style-DDSP inputs


@dataclass
class StyleTrainConfig:
    batch_size: int = 4
    window_s: float = 1.0
    learning_rate: float = 2e-3
    max_voices: int = 4
    seed: int = 0
    decoder: StyleDecoderConfig | None = None
    style_ccs: tuple[StyleCC, ...] = DEFAULT_STYLE_CCS
    fft_sizes: tuple[int, ...] = (2048, 1024, 512, 256, 128, 64)


@dataclass
class VoicedExample:
    """An example ready to train on: audio, and per voice [T, C] inputs and [T] MIDI pitch."""

    audio: np.ndarray
    inputs: np.ndarray  # [V, T, C]
    pitch: np.ndarray  # [V, T]
    n_frames: int
    extra: dict = field(default_factory=dict)


def example_lanes(example: Example) -> ControlLanes:
    """An example's lanes as `ControlLanes`."""
    cc = {k: [(float(t), int(v)) for t, v in lane] for k, lane in example.cc.items()}
    return ControlLanes(cc, [(float(t), float(v)) for t, v in example.pitch_bend])


def voiced(example: Example, model: StyleDDSP, max_voices: int) -> VoicedExample:
    """Split an example into voices and lay each on the frame grid (voices beyond `max_voices` are dropped)."""
    n_frames = len(example.audio) * FRAME_RATE // example.sample_rate
    part = Part(notes=example.note_list())
    lanes = example_lanes(example)
    rows = [model.frames(voice_notes(part, idx), lanes, n_frames) for idx in assign_voices(part)[:max_voices]]
    return VoicedExample(example.audio, np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows]), n_frames)


class WindowSampler:
    """Random training windows (with decoder context) from voiced examples, padded to the batch's voice count."""

    def __init__(self, examples: list[VoicedExample], window_frames: int, context: int, hop: int, seed: int):
        self.examples = [e for e in examples if e.n_frames >= window_frames]
        if not self.examples:
            raise ReaDDSPError("no example is as long as one training window")
        self.window, self.context, self.hop = window_frames, context, hop
        self.rng = np.random.default_rng(seed)
        weights = np.array([e.n_frames for e in self.examples], float)
        self.weights = weights / weights.sum()

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(inputs [R, context+T, C], pitch [R, context+T], owner [R], audio [B, N]): one row per voice that sounds
        in the window or its context (silent voices are not synthesized), `owner` its batch row."""
        picks = self.rng.choice(len(self.examples), size, p=self.weights)
        total = self.context + self.window
        inputs, pitch, owner = [], [], []
        audio = np.zeros((size, self.window * self.hop), np.float32)
        for row, i in enumerate(picks):
            ex = self.examples[i]
            start = int(self.rng.integers(0, ex.n_frames - self.window + 1))
            lo = start - self.context
            src = slice(max(lo, 0), start + self.window)
            dst = slice(max(-lo, 0), total)
            for v in range(ex.inputs.shape[0]):
                if not ex.inputs[v, src, GATE].any():
                    continue
                frames = np.zeros((total, ex.inputs.shape[2]), np.float32)
                frames[dst] = ex.inputs[v, src]
                notes = np.full(total, ex.pitch[v, src][0], np.float32)
                notes[dst] = ex.pitch[v, src]
                inputs.append(frames)
                pitch.append(notes)
                owner.append(row)
            audio[row] = ex.audio[start * self.hop : (start + self.window) * self.hop]
        if not inputs:  # every window silent: one silent voice keeps the shapes valid
            inputs, pitch, owner = (
                [np.zeros((total, self.examples[0].inputs.shape[2]), np.float32)],
                [np.full(total, 60.0, np.float32)],
                [0],
            )
        return (
            torch.from_numpy(np.stack(inputs)),
            torch.from_numpy(np.stack(pitch)),
            torch.tensor(owner),
            torch.from_numpy(audio),
        )


def render_voices(model: StyleDDSP, inputs, pitch, owner, context: int, batch: int) -> torch.Tensor:
    """Differentiable audio [batch, N]: each voice row rendered, the context frames dropped, summed per owner."""
    controls = model.controls_from_frames(inputs, pitch)
    for name in ("amplitude", "noise_magnitudes", "f0_hz", "harmonic_distribution"):
        setattr(controls, name, getattr(controls, name)[:, context:])
    audio = model.synth.get_signal(controls, fast=False)
    return torch.zeros(batch, audio.shape[1]).index_add(0, owner, audio)


def train_style_ddsp(
    dataset_dir: Path, run_dir: Path, loop: LoopConfig, train: StyleTrainConfig, ctx: DistContext
) -> dict:
    """Train (resumably) in `run_dir/style-ddsp`; returns the stage metrics."""
    torch.manual_seed(train.seed)
    data = open_dataset(dataset_dir)
    stage_dir = run_dir / "style-ddsp"
    decoder = train.decoder or StyleDecoderConfig(n_inputs=len(input_channels(train.style_ccs)))
    config = StyleDDSP.make_config(data.instruments[:1], data.sample_rate, list(train.style_ccs), decoder)
    model = StyleDDSP(config)
    train_set = [voiced(e, model, train.max_voices) for e in data.iter_examples("train")]
    hop = data.sample_rate // FRAME_RATE
    window = n_frames_for(train.window_s)
    sampler = WindowSampler(train_set, window, model.decoder.receptive_field, hop, train.seed)
    loss_fn = MultiScaleSpectralLoss(train.fft_sizes)
    optimizer = torch.optim.Adam(model.decoder.parameters(), lr=train.learning_rate)
    model.train()

    def step(index: int) -> dict[str, float]:
        decay_learning_rate(optimizer, train.learning_rate, index)
        inputs, pitch, owner, audio = sampler.batch(train.batch_size)
        rendered = render_voices(model, inputs, pitch, owner, sampler.context, train.batch_size)
        loss = loss_fn(audio, rendered)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.decoder.parameters(), 3.0)
        optimizer.step()
        return {"spectral": loss.item()}

    result = run_loop("style-ddsp", stage_dir, {"decoder": model.decoder}, {"decoder": optimizer}, step, loop, ctx)
    metrics = {
        "steps": result.end_step,
        "wall_time_s": round(total_wall_time(stage_dir, result.wall_time_s), 1),
        "config": config,
        "train_examples": len(train_set),
        "train_seconds": round(sum(e.n_frames for e in train_set) / FRAME_RATE, 1),
        "last": result.history[-1] if result.history else {},
    }
    (stage_dir / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    return metrics


def export_style_bundle(run_dir: Path, output: Path, extra: dict | None = None) -> Path:
    """The newest checkpoint of `run_dir/style-ddsp` as a style-DDSP bundle."""
    from readdsp.training.checkpoint import load_latest

    stage_dir = run_dir / "style-ddsp"
    metrics = json.loads((stage_dir / "metrics.json").read_text())
    model = StyleDDSP({**metrics["config"], "decoder": dict(metrics["config"]["decoder"])})
    load_latest(stage_dir, {"decoder": model.decoder}, {})
    config = {**model.config, "training": {"steps": metrics["steps"], "wall_time_s": metrics["wall_time_s"]}}
    return save_bundle(output, {**config, **(extra or {})}, model.bundle_modules())
