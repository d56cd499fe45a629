"""Synthesis Generator: frame conditioning (notes + 6 controls) -> f0 (autoregressive RNN) and DDSP parameters."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from readdsp.core.models.f0_classes import (
    GO_TOKEN,
    N_F0_CLASSES,
    class_to_f0_residual,
    f0_residual_to_class,
)
from readdsp.core.models.f0_sampler import F0_TOP_P, sample_f0_packed
from readdsp.core.models.frame_stride import pool_padded_conditioning, spread_padded, strided_rows
from readdsp.core.models.layers import DilatedConvStack, FcStack, cast_linear
from readdsp.core.models.packed_lstm import lstm_packed
from readdsp.core.models.precision import inference_dtype
from readdsp.core.models.row_windows import row_windows
from readdsp.core.units import hz_to_midi, midi_to_hz


@dataclass
class SynthesisGeneratorConfig:
    """Sizes. The paper uses FC 512x5, GRUs of 256 (2 AR layers), conv 128x20. Here: smaller, one AR layer, and
    LSTMs instead of GRUs, because PyTorch's CPU LSTM kernels train several times faster than its GRU; this lets
    CPU training fit ~90 minutes and the sequential f0 loop render far above real time on 2 cores."""

    n_instruments: int = 16
    instrument_dim: int = 32
    cond_hidden: int = 128
    cond_layers: int = 3
    z_dim: int = 128
    f0_encoder_hidden: int = 64
    f0_ar_hidden: int = 96
    f0_prev_dim: int = 32
    conv_channels: int = 96
    conv_dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 1, 2, 4)
    n_harmonics: int = 100
    n_noise_bands: int = 65
    frame_stride: int = 2  # the networks run on every 2nd frame; outputs are interpolated back (see frame_stride)

    def to_dict(self) -> dict:
        return asdict(self)


class SynthesisGenerator(nn.Module):
    """MIDI-DDSP's Synthesis Generator: conditioning encoder, autoregressive f0 decoder, dilated-conv param decoder."""

    def __init__(self, config: SynthesisGeneratorConfig):
        super().__init__()
        self.config = config
        c = config
        self.cond = FcStack(10, c.cond_hidden, c.cond_layers, c.z_dim)
        self.instrument = nn.Embedding(c.n_instruments, c.instrument_dim)
        z_dim = c.z_dim + c.instrument_dim
        self.f0_encoder = nn.LSTM(z_dim, c.f0_encoder_hidden, batch_first=True, bidirectional=True)
        self.f0_prev = nn.Embedding(N_F0_CLASSES + 1, c.f0_prev_dim)
        self.f0_rnn = nn.LSTM(2 * c.f0_encoder_hidden + c.f0_prev_dim, c.f0_ar_hidden, batch_first=True)
        self.f0_norm = nn.LayerNorm(c.f0_ar_hidden)
        self.f0_out = nn.Linear(c.f0_ar_hidden, N_F0_CLASSES)
        self.f0_feature = nn.Linear(1, 32)
        self.params = DilatedConvStack(
            z_dim + 32, c.conv_channels, 1 + c.n_harmonics + c.n_noise_bands, c.conv_dilations
        )

    def encode(self, conditioning: torch.Tensor, instrument_id: torch.Tensor) -> torch.Tensor:
        """[B, T, 10] conditioning -> z [B, T, z_dim + instrument_dim]."""
        inst = self.instrument(instrument_id)[:, None, :].expand(-1, conditioning.shape[1], -1)
        return torch.cat([self.cond(conditioning), inst], dim=-1)

    def f0_context(self, z: torch.Tensor) -> torch.Tensor:
        """BiLSTM over z [B, T, D] (training; inference runs `f0_context_packed`)."""
        return self.f0_encoder(z)[0]

    def f0_context_packed(self, z: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """`f0_context` for rows packed end to end in z [N, D]: the input projections as products in z's dtype, then
        the compiled recurrences. Returns float32 [N, 2 * hidden]."""
        rnn = self.f0_encoder
        rows = lengths.numpy()
        directions = []
        for suffix, reverse in (("", False), ("_reverse", True)):
            bias = getattr(rnn, f"bias_ih_l0{suffix}") + getattr(rnn, f"bias_hh_l0{suffix}")
            projected = torch.addmm(bias.to(z.dtype), z, getattr(rnn, f"weight_ih_l0{suffix}").T.to(z.dtype))
            directions.append(lstm_packed(projected, rows, getattr(rnn, f"weight_hh_l0{suffix}").T.numpy(), reverse))
        return torch.from_numpy(np.concatenate(directions, axis=1))

    def f0_logits_teacher_forced(self, context: torch.Tensor, target_classes: torch.Tensor) -> torch.Tensor:
        """Training: logits [B, T, 201] given the true previous classes (with 50% input dropout on them)."""
        prev = torch.cat([torch.full_like(target_classes[:, :1], GO_TOKEN), target_classes[:, :-1]], dim=1)
        prev_emb = self.f0_prev(prev)
        if self.training:
            keep = (torch.rand(prev_emb.shape[:2], device=prev_emb.device) > 0.5).unsqueeze(-1)
            prev_emb = prev_emb * keep
        h, _ = self.f0_rnn(torch.cat([context, prev_emb], dim=-1))
        return self.f0_out(self.f0_norm(h))

    def decode_params(self, z: torch.Tensor, f0_hz: torch.Tensor) -> dict[str, torch.Tensor]:
        """Raw (pre-exp_sigmoid) amplitude / harmonics / noise given z and f0 [B, T]."""
        f0_feat = self.f0_feature(_f0_feature_input(f0_hz))
        return self._split_params(self.params(torch.cat([z, f0_feat], dim=-1)))

    def _split_params(self, out: torch.Tensor) -> dict[str, torch.Tensor]:
        """The conv stack's last axis as raw amplitude [.., 1], harmonics [.., K] and noise bands."""
        k = self.config.n_harmonics
        return {"amplitude": out[..., :1], "harmonics": out[..., 1 : 1 + k], "noise": out[..., 1 + k :]}

    def forward(
        self,
        conditioning: torch.Tensor,
        instrument_id: torch.Tensor,
        base_pitch: torch.Tensor,
        f0_hz: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """Teacher-forced pass for training: f0 logits for the true f0, and parameters decoded from the true f0.

        The networks run at the frame stride: f0 logits and targets are per strided frame ([B, ceil(T / stride)]),
        the parameters and z are interpolated back to every frame."""
        stride, n_frames = self.config.frame_stride, conditioning.shape[1]
        z = self.encode(pool_padded_conditioning(conditioning, stride), instrument_id)
        strided_f0 = f0_hz[:, ::stride]
        target = f0_residual_to_class(hz_to_midi(strided_f0) - base_pitch[:, ::stride])
        logits = self.f0_logits_teacher_forced(self.f0_context(z), target)
        params = self.decode_params(z, strided_f0)
        out = {name: spread_padded(value, n_frames, stride) for name, value in params.items()}
        out.update(f0_logits=logits, f0_target=target, z=spread_padded(z, n_frames, stride))
        return out

    def encode_packed(self, conditioning: torch.Tensor, instrument_id: torch.Tensor) -> torch.Tensor:
        """`encode` for frames packed as [N, 10] with one instrument id per frame, in conditioning's dtype."""
        inst = self.instrument.weight.to(conditioning.dtype)[instrument_id]
        return torch.cat([self.cond.infer(conditioning), inst], dim=-1)

    @torch.no_grad()
    def generate(
        self,
        conditioning: torch.Tensor,
        instrument_id: torch.Tensor,
        base_pitch: torch.Tensor,
        seed: int | list[int] = 0,
        top_p: float = F0_TOP_P,
        lengths: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """`generate_packed` for padded rows [B, T, ...]; outputs past a row's length (`lengths`) are zero."""
        n_rows, n_frames = conditioning.shape[:2]
        lengths = torch.full((n_rows,), n_frames) if lengths is None else torch.as_tensor(lengths).long()
        seeds = [seed] * n_rows if isinstance(seed, int) else list(seed)
        mask = torch.arange(n_frames)[None, :] < lengths[:, None]
        out = self.generate_packed(conditioning[mask], instrument_id, base_pitch[mask], lengths, seeds, top_p)
        return {name: _unpack(value, mask) for name, value in out.items()}

    @torch.no_grad()
    def generate_packed(
        self,
        conditioning: torch.Tensor,
        instrument_id: torch.Tensor,
        base_pitch: torch.Tensor,
        lengths: torch.Tensor,
        seeds: list[int],
        top_p: float = F0_TOP_P,
    ) -> dict[str, torch.Tensor]:
        """Inference over rows packed end to end: conditioning [N, 10] and base_pitch [N] hold every row's frames in
        turn (row i has lengths[i] frames, instrument_id[i] and seeds[i]).

        f0 is sampled autoregressively (nucleus sampling, compiled loop), then the parameters are decoded. Rows are
        independent of each other, and large products run in `inference_dtype()`. Returns [N, ...] tensors.
        Rows longer than `row_windows.WINDOW_FRAMES` run as overlapping windows, cross-faded (see row_windows).
        """
        windows = row_windows(lengths, list(seeds))
        if not windows.split:
            return self._generate_rows(conditioning, instrument_id, base_pitch, lengths, seeds, top_p)
        out = self._generate_rows(
            windows.gather(conditioning),
            instrument_id[windows.row_of_window],
            windows.gather(base_pitch),
            windows.lengths,
            windows.seeds,
            top_p,
        )
        stitched = {name: windows.stitch(value) for name, value in out.items()}
        return stitched | {"f0_classes": torch.round(stitched["f0_classes"]).long()}

    def _generate_rows(
        self,
        conditioning: torch.Tensor,
        instrument_id: torch.Tensor,
        base_pitch: torch.Tensor,
        lengths: torch.Tensor,
        seeds: list[int],
        top_p: float,
    ) -> dict[str, torch.Tensor]:
        """`generate_packed` for rows of any length, each in one piece, the networks at the frame stride."""
        dtype = inference_dtype()
        layout = strided_rows(lengths, self.config.frame_stride)
        strided = layout.strided_lengths
        conditioning = layout.pool_conditioning(conditioning).to(dtype)
        z = self.encode_packed(conditioning, torch.repeat_interleave(instrument_id, strided))
        context = self.f0_context_packed(z, strided)
        classes = torch.from_numpy(sample_f0_packed(self, context, strided.tolist(), seeds, top_p)).float()
        residual = class_to_f0_residual(classes)
        strided_f0 = midi_to_hz(base_pitch[layout.first] + residual)
        f0_feat = cast_linear(_f0_feature_input(strided_f0).to(dtype), self.f0_feature)
        # The decoder's 96-channel products stay float32: in bfloat16 they ran 25% slower (0.61 s against 0.49 s
        # for 60k frames, one thread), the largest single cost bfloat16 added to the 6-minute quartet.
        params = self.params.infer_packed(torch.cat([z, f0_feat], dim=-1).float(), strided)
        return self._split_params(layout.spread(params)) | {
            "f0_hz": midi_to_hz(base_pitch + layout.spread(residual)),
            "f0_classes": torch.round(layout.spread(classes)).long(),
        }


def _f0_feature_input(f0_hz: torch.Tensor) -> torch.Tensor:
    """f0 as the parameter decoder reads it: MIDI pitch / 127, with a trailing channel axis."""
    return (hz_to_midi(f0_hz) / 127.0).unsqueeze(-1)


def _unpack(packed: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[N, ...] frames back to [B, T, ...] rows, zero past each row's end."""
    out = packed.new_zeros(*mask.shape, *packed.shape[1:])
    out[mask] = packed
    return out
