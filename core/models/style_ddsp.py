"""Style DDSP: a small causal dilated-conv decoder from MIDI frames (pitch, velocity, CCs, timing) to DDSP controls.

The simplified-DDSP family of Grechin & Groves (MIDI fed directly to the decoder, style and timing channels), sized
for speed: per frame, a linear input layer, residual causal dilated 1-D convolutions (no recurrence), and linear
heads for amplitude, harmonic distribution and noise magnitudes. f0 comes from the MIDI pitch and pitch bend.
Bundles of this family have `"model": "style-ddsp"` and name their style CCs in the config (`style_ccs`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from readdsp.core.bundle import Bundle
from readdsp.core.control_lanes import ControlLanes
from readdsp.core.errors import ReaDDSPError
from readdsp.core.models.bundle_config import MAX_SIZE, config_from, instruments_and_rate
from readdsp.core.note_frames import FRAME_RATE
from readdsp.core.performance import N_CONTROLS, Note
from readdsp.core.style_frames import StyleCC, input_channels, voice_frames
from readdsp.core.synth import DDSPSynth, SynthControls
from readdsp.core.units import midi_to_hz

FAMILY = "style-ddsp"
PADDING_SLACK = 1.25  # a generation batch's longest segment is at most this times its shortest


@dataclass
class StyleDecoderConfig:
    n_inputs: int
    hidden: int = 64
    kernel_size: int = 3
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    n_harmonics: int = 60
    n_noise_bands: int = 65


class CausalBlock(nn.Module):
    """x + W1x1(leaky_relu(causal dilated conv(x)))."""

    def __init__(self, channels: int, kernel_size: int, dilation: int):
        super().__init__()
        self.pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(channels, channels, kernel_size, dilation=dilation)
        self.mix = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(nn.functional.pad(x, (self.pad, 0)))
        return x + self.mix(nn.functional.leaky_relu(y, 0.1))


class StyleDecoder(nn.Module):
    """[B, T, n_inputs] frames -> raw amplitude [B,T,1], harmonic distribution [B,T,K], noise [B,T,N]."""

    def __init__(self, config: StyleDecoderConfig):
        super().__init__()
        self.config = config
        self.inp = nn.Linear(config.n_inputs, config.hidden)
        self.blocks = nn.ModuleList(CausalBlock(config.hidden, config.kernel_size, d) for d in config.dilations)
        self.out = nn.Linear(config.hidden, 1 + config.n_harmonics + config.n_noise_bands)
        with torch.no_grad():
            self.out.bias[1 + config.n_harmonics :] = -5.0  # quiet noise at the start, as DDSP's noise bias

    @property
    def receptive_field(self) -> int:
        return 1 + sum((self.config.kernel_size - 1) * d for d in self.config.dilations)

    def forward(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        x = nn.functional.leaky_relu(self.inp(frames), 0.1).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        out = self.out(nn.functional.leaky_relu(x, 0.1).transpose(1, 2))
        k = self.config.n_harmonics
        return {"amplitude": out[..., :1], "harmonics": out[..., 1 : 1 + k], "noise": out[..., 1 + k :]}


def style_ccs_of(config: dict, where: str | Path | None = None) -> tuple[StyleCC, ...]:
    """The bundle's style CCs, checked: numbers 0..127, defaults 0..127, names unique."""
    try:
        ccs = tuple(StyleCC.from_dict(d) for d in config.get("style_ccs", []))
    except (KeyError, TypeError, ValueError) as err:
        raise ReaDDSPError(f"bad style_ccs entry in the bundle config ({err})", where) from None
    for cc in ccs:
        if not 0 <= cc.number <= 127 or not 0 <= cc.default <= 127:
            raise ReaDDSPError(f"style CC {cc.name!r}: number and default must lie in 0..127", where)
    if len({cc.number for cc in ccs}) != len(ccs):
        raise ReaDDSPError("style CCs must have distinct numbers", where)
    return ccs


class StyleDDSP(nn.Module):
    """The style-DDSP instrument: decoder + dry DDSP synth, with the render API of `MidiDDSP`."""

    uses_lanes = True

    def __init__(self, config: dict, where: str | Path | None = None):
        super().__init__()
        self.config = config
        self.instruments, self.sample_rate = instruments_and_rate(config, MAX_SIZE, where)
        self.style_ccs = style_ccs_of(config, where)
        self.decoder = StyleDecoder(config_from(StyleDecoderConfig, config.get("decoder"), "decoder", where))
        expected = len(input_channels(self.style_ccs))
        if self.decoder.config.n_inputs != expected:
            raise ReaDDSPError(f"decoder takes {self.decoder.config.n_inputs} inputs, its CCs make {expected}", where)
        self.synth = DDSPSynth(
            self.sample_rate, FRAME_RATE, self.decoder.config.n_harmonics, self.decoder.config.n_noise_bands
        )
        self.eval()

    @staticmethod
    def make_config(
        instruments: list[str], sample_rate: int, style_ccs: list[StyleCC], decoder: StyleDecoderConfig, **extra
    ) -> dict:
        return {
            "model": FAMILY,
            "instruments": instruments,
            "sample_rate": sample_rate,
            "style_ccs": [cc.to_dict() for cc in style_ccs],
            "inputs": input_channels(style_ccs),
            "decoder": asdict(decoder),
            **extra,
        }

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> StyleDDSP:
        model = cls(bundle.config, bundle.path)
        try:
            model.decoder.load_state_dict(bundle.states["decoder"])
        except (KeyError, RuntimeError) as err:
            raise ReaDDSPError(f"bundle weights do not fit its config ({type(err).__name__})", bundle.path) from None
        return model.eval()

    def bundle_modules(self) -> dict[str, nn.Module]:
        return {"decoder": self.decoder}

    def generate_expressions(self, voices: list[list[Note]], instruments: list[str]) -> list[np.ndarray]:
        """This family has no per-note expression controls: neutral 0.5 rows (ignored when rendering)."""
        return [np.full((len(notes), N_CONTROLS), 0.5, np.float32) for notes in voices]

    def frames(self, notes: list[Note], lanes: ControlLanes | None, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
        return voice_frames(notes, lanes, n_frames, self.style_ccs)

    def controls_from_frames(self, inputs: torch.Tensor, midi_pitch: torch.Tensor) -> SynthControls:
        """[B,T,C] inputs and [B,T] MIDI pitch -> scaled synth controls (differentiable: training uses it too)."""
        raw = self.decoder(inputs)
        f0 = midi_to_hz(midi_pitch)[..., None]
        return self.synth.get_controls(raw["amplitude"], raw["harmonics"], raw["noise"], f0)

    @torch.no_grad()
    def generate_controls(
        self,
        segments: list[list[Note]],
        n_frames: list[int],
        instruments: list[str],
        seeds: list[int],
        lanes: list[ControlLanes | None] | None = None,
    ) -> list[SynthControls]:
        """Synthesis controls per segment (notes and lanes timed from the segment start); deterministic.

        Segments run in batches of similar length, each padded at the end to its longest (the decoder is causal,
        so padding never reaches real frames): one batch of a long and many short segments was mostly padding.
        """
        lanes = lanes or [None] * len(segments)
        fields = SynthControls.__dataclass_fields__
        out: list[SynthControls | None] = [None] * len(segments)
        for rows in similar_lengths(n_frames):
            longest = max(n_frames[row] for row in rows)
            inputs = np.zeros((len(rows), longest, self.decoder.config.n_inputs), np.float32)
            midi = np.full((len(rows), longest), 60.0, np.float32)
            for i, row in enumerate(rows):
                frames = n_frames[row]
                inputs[i, :frames], midi[i, :frames] = self.frames(segments[row], lanes[row], frames)
            controls = self.controls_from_frames(torch.from_numpy(inputs), torch.from_numpy(midi))
            for i, row in enumerate(rows):
                out[row] = SynthControls(**{k: getattr(controls, k)[i : i + 1, : n_frames[row]] for k in fields})
        return [controls for controls in out if controls is not None]

    @torch.no_grad()
    def synthesize(self, controls: SynthControls, seed: int) -> np.ndarray:
        """Dry audio for one segment's controls."""
        generator = torch.Generator().manual_seed(seed)
        return self.synth.get_signal(controls, generator=generator)[0].numpy()


def similar_lengths(n_frames: list[int], slack: float = PADDING_SLACK) -> list[list[int]]:
    """Row indices grouped shortest first, each group's longest at most `slack` times its shortest (at least 1)."""
    groups: list[list[int]] = []
    for row in sorted(range(len(n_frames)), key=lambda r: n_frames[r]):
        if groups and n_frames[row] <= slack * max(n_frames[groups[-1][0]], 1):
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups
