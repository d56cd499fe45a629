"""MidiDDSP: the inference hierarchy in one module (notes -> expression -> synthesis parameters -> audio)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from readdsp.core.bundle import Bundle, vibrato_scales
from readdsp.core.control_bands import PitchBand, brightness_bands
from readdsp.core.control_lanes import ControlLanes
from readdsp.core.errors import ReaDDSPError
from readdsp.core.features.expression import ExpressionScale
from readdsp.core.models.bundle_config import config_from, instruments_and_rate
from readdsp.core.models.expression_generator import (
    ExpressionGenerator,
    ExpressionGeneratorConfig,
    notes_with_rests,
)
from readdsp.core.models.synthesis_generator import SynthesisGenerator, SynthesisGeneratorConfig
from readdsp.core.note_frames import FRAME_RATE, held_pitch, notes_to_frames
from readdsp.core.performance import CONTROL_NAMES, Note
from readdsp.core.synth import DDSPSynth, SynthControls
from readdsp.core.synth.pitch_drift import DRIFT_CENTS, pitch_drift_cents

VIBRATO = CONTROL_NAMES.index("vibrato")
BRIGHTNESS = CONTROL_NAMES.index("brightness")


class MidiDDSP(nn.Module):
    """Expression Generator + Synthesis Generator + dry DDSP synth.

    Bundles of format /1 also carry a learned reverb; it is not used (renders are dry, and a room is added on
    request by `core.room`)."""

    uses_lanes = False  # MIDI-DDSP hears notes only; CC and bend lanes are not model inputs

    def __init__(self, config: dict, where: str | Path | None = None):
        super().__init__()
        self.config = config
        # bundles made before the velocity curve was an input heard velocity as v/127 only
        eg_config = config_from(
            ExpressionGeneratorConfig,
            config.get("expression_generator"),
            "expression_generator",
            where,
            defaults={"velocity_db": False, "velocity_skip": False},
        )
        # bundles made before the frame stride existed ran their networks on every frame
        sg_config = config_from(
            SynthesisGeneratorConfig,
            config.get("synthesis_generator"),
            "synthesis_generator",
            where,
            defaults={"frame_stride": 1},
        )
        self.instruments, self.sample_rate = instruments_and_rate(
            config, min(eg_config.n_instruments, sg_config.n_instruments), where
        )
        try:
            self.expression_scale = ExpressionScale.from_dict(config.get("expression_scale"))
        except ReaDDSPError as err:
            raise ReaDDSPError(err.problem, err.path or where) from None
        self.expression_generator = ExpressionGenerator(eg_config)
        self.synthesis_generator = SynthesisGenerator(sg_config)
        sg = self.synthesis_generator.config
        self.synth = DDSPSynth(self.sample_rate, FRAME_RATE, sg.n_harmonics, sg.n_noise_bands)
        self.pitch_drift_cents = DRIFT_CENTS  # a player's slow wander, added to the sampled f0 (0 turns it off)
        self.vibrato_scale: dict[str, float] = {}  # instrument -> factor on its generated vibrato (1 when absent)
        self.brightness_band: dict[str, PitchBand] = {}  # instrument -> its training data's brightness per pitch
        self.eval()

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> MidiDDSP:
        model = cls(bundle.config, bundle.path)
        try:
            for name, module in model.bundle_modules().items():
                module.load_state_dict(bundle.states[name])
        except (KeyError, RuntimeError) as err:
            raise ReaDDSPError(f"bundle weights do not fit its config ({type(err).__name__})", bundle.path) from None
        model.vibrato_scale = vibrato_scales(bundle)
        model.brightness_band = brightness_bands(bundle)
        return model.eval()

    def bundle_modules(self) -> dict[str, nn.Module]:
        return {
            "expression_generator": self.expression_generator,
            "synthesis_generator": self.synthesis_generator,
        }

    def instrument_id(self, name: str) -> int:
        return self.instruments.index(name)

    @torch.no_grad()
    def generate_expression(self, notes: list[Note], instrument: str) -> np.ndarray:
        """[n_notes, 6] controls for a monophonic, onset-sorted note list."""
        return self.generate_expressions([notes], [instrument])[0]

    @torch.no_grad()
    def generate_expressions(self, voices: list[list[Note]], instruments: list[str]) -> list[np.ndarray]:
        """`generate_expression` for several voices at once (one padded batch; each voice as if alone)."""
        out: list[np.ndarray] = [np.zeros((0, 6), np.float32) for _ in voices]
        rows = [i for i, notes in enumerate(voices) if notes]
        if not rows:
            return out
        seqs = [notes_with_rests(voices[i]) for i in rows]
        lengths = torch.tensor([len(seq["pitch"]) for seq in seqs])

        def padded(key: str) -> torch.Tensor:
            return nn.utils.rnn.pad_sequence([torch.from_numpy(seq[key]) for seq in seqs], batch_first=True)

        generated = self.expression_generator.generate(
            padded("pitch"),
            padded("length_s"),
            padded("velocity"),
            torch.tensor([self.instrument_id(instruments[i]) for i in rows]),
            lengths,
        ).numpy()
        for row, (i, seq) in enumerate(zip(rows, seqs, strict=True)):
            index = seq["index"]
            out[i] = generated[row, : len(index)][index >= 0]
            vibrato = out[i][:, VIBRATO] * self.vibrato_scale.get(instruments[i], 1.0)
            out[i][:, VIBRATO] = np.clip(vibrato, 0.0, 1.0)
            if band := self.brightness_band.get(instruments[i]):
                pitches = np.array([note.pitch for note in voices[i]], float)
                out[i][:, BRIGHTNESS] = band.clip(pitches, out[i][:, BRIGHTNESS])
        return out

    @torch.no_grad()
    def generate_controls(
        self,
        segments: list[list[Note]],
        n_frames: list[int],
        instruments: list[str],
        seeds: list[int],
        lanes: list[ControlLanes | None] | None = None,
    ) -> list[SynthControls]:
        """Synthesis parameters for several note segments at once (notes timed from each segment's start; `lanes`
        is ignored, see `uses_lanes`).

        Rows are independent: each has its own instrument and seed, and they run packed end to end (no padding).
        """
        cond, base = [], []
        for notes, frames in zip(segments, n_frames, strict=True):
            laid = notes_to_frames(notes, frames, FRAME_RATE)
            cond.append(laid.stacked())
            base.append(held_pitch(laid.pitch).astype(np.float32))
        out = self.synthesis_generator.generate_packed(
            torch.from_numpy(np.concatenate(cond)),
            torch.tensor([self.instrument_id(name) for name in instruments], dtype=torch.long),
            torch.from_numpy(np.concatenate(base)),
            torch.tensor(n_frames),
            list(seeds),
        )
        drift = np.concatenate(
            [
                pitch_drift_cents(n, FRAME_RATE, seed, self.pitch_drift_cents)
                for n, seed in zip(n_frames, seeds, strict=True)
            ]
        )
        f0_hz = out["f0_hz"] * torch.from_numpy(2.0 ** (drift / 1200.0)).to(out["f0_hz"].dtype)
        controls = self.synth.get_controls(
            out["amplitude"][None], out["harmonics"][None], out["noise"][None], f0_hz[None]
        )
        rows = {k: torch.split(getattr(controls, k), list(n_frames), dim=1) for k in SynthControls.__dataclass_fields__}
        return [SynthControls(**{k: rows[k][i] for k in rows}) for i in range(len(n_frames))]

    @torch.no_grad()
    def synthesize(self, controls: SynthControls, seed: int) -> np.ndarray:
        """Dry audio for one segment's controls."""
        generator = torch.Generator().manual_seed(seed)
        return self.synth.get_signal(controls, generator=generator)[0].numpy()
