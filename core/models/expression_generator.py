"""Expression Generator: a note sequence -> the 6 expression controls per note (BiGRU + autoregressive GRU)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from readdsp.core.models.layers import FcStack
from readdsp.core.models.note_gru import NoteDecoder, bidirectional_gru
from readdsp.core.performance import N_CONTROLS, Note

#: The velocity curve's dB are divided by this, so that v20 (-32 dB) is about -0.8, near the other inputs' range.
VELOCITY_DB_SCALE = 40.0


def gm_velocity_db(velocity: torch.Tensor) -> torch.Tensor:
    """The General MIDI velocity curve, 40 log10(v/127) dB (v floored at 1; a rest's 0 reads as v1)."""
    return 40.0 * torch.log10(velocity.clamp(min=1.0) / 127.0)


@dataclass
class ExpressionGeneratorConfig:
    """Sizes (the paper: embeddings 64, BiGRU 128, GRU 128x2; one AR layer here, which trains in minutes on CPU)."""

    n_instruments: int = 16
    embed_dim: int = 64
    hidden: int = 128
    dropout: float = 0.3  # on the note features and the BiGRU context, in training: a corpus of a few thousand notes
    #: Velocity also enters through the General MIDI curve, 40 log10(v/127) dB, in which the corpus's volume is
    #: near-linear; from v/127 alone the sparse pp end was smoothed towards the mean (a cello v20 got volume
    #: 0.29 where its data has 0.18). Bundles made before it lack the key and load without it.
    velocity_db: bool = True
    #: The curve also reaches the controls directly, each instrument a learned slope per control added to the
    #: head's output: a near-deterministic relation that dropout and MSE otherwise pull towards the mean at pp and ff.
    velocity_skip: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


class ExpressionGenerator(nn.Module):
    """Note-level model: [pitch embedding, note length, velocity, instrument] -> BiGRU -> AR GRU -> 6 controls.

    Velocity is an input here (the reference ignores it) so that a MIDI part's dynamics reach the expression.
    """

    def __init__(self, config: ExpressionGeneratorConfig):
        super().__init__()
        self.config = config
        c = config
        self.pitch = nn.Embedding(128, c.embed_dim)
        self.length = nn.Linear(3 if c.velocity_db else 2, c.embed_dim)
        self.instrument = nn.Embedding(c.n_instruments, c.embed_dim)
        self.encoder = nn.GRU(3 * c.embed_dim, c.hidden, batch_first=True, bidirectional=True)
        self.decoder = nn.GRU(2 * c.hidden + N_CONTROLS, c.hidden, batch_first=True)
        self.dropout = nn.Dropout(c.dropout)
        self.norm = nn.LayerNorm(c.hidden)
        self.out = FcStack(c.hidden, c.hidden, 2, N_CONTROLS)
        if c.velocity_skip:
            self.velocity_slope = nn.Embedding(c.n_instruments, N_CONTROLS)
            nn.init.zeros_(self.velocity_slope.weight)

    def velocity_offset(self, velocity: torch.Tensor, instrument_id: torch.Tensor) -> torch.Tensor:
        """[B, N, 6] added to the head's controls with `velocity_skip`: the instrument's slope times the velocity
        curve (0 at v127)."""
        curve = gm_velocity_db(velocity) / VELOCITY_DB_SCALE
        return curve.unsqueeze(-1) * self.velocity_slope(instrument_id)[:, None, :]

    def note_features(
        self, pitch: torch.Tensor, length_s: torch.Tensor, velocity: torch.Tensor, instrument_id: torch.Tensor
    ) -> torch.Tensor:
        """The BiGRU's input per note [B, N, 3 * embed]: pitch embedding, length and velocity, instrument."""
        inst = self.instrument(instrument_id)[:, None, :].expand(-1, pitch.shape[1], -1)
        columns = [length_s, velocity / 127.0]
        if self.config.velocity_db:
            columns.append(gm_velocity_db(velocity) / VELOCITY_DB_SCALE)
        scalars = torch.stack(columns, dim=-1)
        return torch.cat([self.pitch(pitch), self.length(scalars), inst], dim=-1)

    def context(
        self,
        pitch: torch.Tensor,
        length_s: torch.Tensor,
        velocity: torch.Tensor,
        instrument_id: torch.Tensor,
        lengths: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """BiGRU context [B, N, 2 * hidden]; with `lengths`, rows are padded and each row's backward pass starts at
        its own last note (packed), so a row's context does not depend on the padding."""
        x = self.dropout(self.note_features(pitch, length_s, velocity, instrument_id))
        if lengths is None:
            return self.dropout(self.encoder(x)[0])
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        ctx, _ = nn.utils.rnn.pad_packed_sequence(self.encoder(packed)[0], batch_first=True, total_length=x.shape[1])
        return self.dropout(ctx)

    @torch.no_grad()
    def inference_context(
        self,
        pitch: torch.Tensor,
        length_s: torch.Tensor,
        velocity: torch.Tensor,
        instrument_id: torch.Tensor,
        lengths: torch.Tensor | None = None,
    ) -> np.ndarray:
        """`context` in eval mode, its recurrence stepped in numpy (`note_gru`): [B, N, 2 * hidden]."""
        x = self.note_features(pitch, length_s, velocity, instrument_id).numpy()
        row_lengths = np.full(pitch.shape[0], pitch.shape[1]) if lengths is None else lengths.numpy()
        return bidirectional_gru(self.encoder, x, row_lengths)

    def forward(
        self,
        pitch: torch.Tensor,
        length_s: torch.Tensor,
        velocity: torch.Tensor,
        instrument_id: torch.Tensor,
        target: torch.Tensor,
    ) -> torch.Tensor:
        """Teacher-forced training pass: [B, N] notes (pitch 0 = rest) -> [B, N, 6]; rests output 0."""
        ctx = self.context(pitch, length_s, velocity, instrument_id)
        prev = torch.cat([torch.zeros_like(target[:, :1]), target[:, :-1]], dim=1)
        if self.training:
            prev = prev * (torch.rand(prev.shape[:2], device=prev.device) > 0.5).unsqueeze(-1)
        h, _ = self.decoder(torch.cat([ctx, prev], dim=-1))
        controls = self.out(self.norm(h))
        if self.config.velocity_skip:
            controls = controls + self.velocity_offset(velocity, instrument_id)
        return controls * (pitch > 0).unsqueeze(-1)

    @torch.no_grad()
    def generate(
        self,
        pitch: torch.Tensor,
        length_s: torch.Tensor,
        velocity: torch.Tensor,
        instrument_id: torch.Tensor,
        lengths: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Autoregressive inference over notes; outputs clipped to [0, 1] and zero on rests.

        Rows may be padded to a common length (`lengths`): each row's outputs are those it would get alone.
        """
        ctx = self.inference_context(pitch, length_s, velocity, instrument_id, lengths)
        decoder = NoteDecoder.from_modules(self.decoder, self.norm, self.out.net)
        offset = self.velocity_offset(velocity, instrument_id).numpy() if self.config.velocity_skip else None
        return torch.from_numpy(decoder.run(ctx, (pitch > 0).numpy().astype(np.float32), offset))


def notes_with_rests(notes: list[Note]) -> dict[str, np.ndarray]:
    """A monophonic note list as the generator's sequence: pitch (0 = rest), length_s, velocity, note index (-1).

    Gaps become explicit pitch-0 rests and a 1-s rest ends the sequence, as in MIDI-DDSP.
    """
    rows: list[tuple[int, float, float, int]] = []
    t = 0.0
    for i, note in enumerate(notes):
        if note.onset - t > 1e-6:
            rows.append((0, note.onset - t, 0.0, -1))
        rows.append((int(note.pitch), max(note.duration, 0.0), float(note.velocity), i))
        t = max(t, note.offset)
    rows.append((0, 1.0, 0.0, -1))
    pitch, length, velocity, index = zip(*rows, strict=True)
    return {
        "pitch": np.array(pitch, np.int64),
        "length_s": np.array(length, np.float32),
        "velocity": np.array(velocity, np.float32),
        "index": np.array(index, np.int64),
    }
