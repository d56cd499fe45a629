"""The autoregressive f0 loop: inputs prepared with torch, then the compiled lanes of `core.kernels.f0_lane`.

The reference steps an eager TensorFlow GRU once per 4 ms frame (slower than real time). Here the part of the
recurrent input projection that depends on the conditioning is precomputed for all frames in one matrix product, the
previous-output embedding is folded into a 202-row table, and each row (one note segment) runs its whole sequence in
a compiled loop with pre-drawn uniforms. Rows are independent, so they run in parallel on all cores, padding costs
nothing, and the result is exact and deterministic for a seed whatever the thread count.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from readdsp.core.kernels.f0_lane import f0_lane, lane_scratch
from readdsp.core.kernels.lstm_lanes import lane_split, row_starts, slot_state
from readdsp.core.kernels.warmup import wait_for_kernels
from readdsp.core.models.f0_classes import GO_TOKEN, N_F0_CLASSES
from readdsp.core.models.packed_lstm import float_bits
from readdsp.core.models.precision import inference_dtype
from readdsp.core.thread_policy import in_lanes

#: The nucleus the f0 classes are drawn from. The reference draws from 0.95 of the probability; with it, a note
#: asked for no vibrato wandered 8-10 cents (1.4826 x MAD) as the sampler's draws fed back into the loop, so the
#: vibrato control could not go under what 0.3 asks for (8 cents). 0.5 is the widest nucleus that held every
#: vibrato-0 note of 12 seeds on violin, flute, trumpet and cello at its pitch (0.6 and 0.55 let 1-3 of the 12
#: wander 3-10 cents), and vibrato 0.3/0.6/0.9 still sing at 8/13-16/22-24 cents as at 0.95 (docs/training.md).
F0_TOP_P = 0.5


def _np(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().float().cpu().numpy())


def packed_uniforms(seeds: Sequence[int], lengths: Sequence[int] | np.ndarray) -> np.ndarray:
    """One independent uniform stream per row, packed like the frames, so no row depends on another."""
    return np.concatenate(
        [np.random.default_rng([int(s) & 0xFFFFFFFF, 0xF0]).random(int(n)) for s, n in zip(seeds, lengths, strict=True)]
    ).astype(np.float32)


def without_clamp_classes(bias: np.ndarray) -> np.ndarray:
    """The output bias with the two edge classes (+-1 semitone, where training clamps every larger residual)
    ruled out: they stand for "a semitone or more away" (the previous note's pitch in a legato transition), never
    for a pitch, and once the sampler steps onto one its own feedback keeps it there, so a whole note sounded a
    semitone off (measured: 4-17% of the notes of the 48 kHz test phrases, none with the mask)."""
    masked = bias.copy()
    masked[[0, N_F0_CLASSES - 1]] = -1e4
    return masked


def sample_f0_packed(
    model, context: torch.Tensor, lengths: Sequence[int], seeds: Sequence[int], top_p: float = F0_TOP_P
) -> np.ndarray:
    """f0 classes [N] for rows packed end to end in `context` [N, D] (row i has lengths[i] frames)."""
    wait_for_kernels("f0_lane")
    rnn = model.f0_rnn
    d_ctx = context.shape[-1]
    w_ih = rnn.weight_ih_l0
    dtype = inference_dtype()
    gi_context = torch.addmm(
        (rnn.bias_ih_l0 + rnn.bias_hh_l0).to(dtype), context.to(dtype), w_ih[:, :d_ctx].T.to(dtype)
    )
    prev_table = model.f0_prev.weight @ w_ih[:, d_ctx:].T
    assert prev_table.shape[0] == N_F0_CLASSES + 1
    lengths_np = np.asarray(lengths, np.int64)
    starts = row_starts(lengths_np)
    lanes, bounds = lane_split(lengths_np)
    bits, shift = float_bits(gi_context)
    weights = (
        _np(prev_table),
        _np(rnn.weight_hh_l0.T),
        _np(model.f0_norm.weight),
        _np(model.f0_norm.bias),
        _np(model.f0_out.weight.T),
        without_clamp_classes(_np(model.f0_out.bias)),
    )
    uniforms = packed_uniforms(seeds, lengths_np)
    out = np.empty(bits.shape[0], np.int64)

    def run_lane(lane: int) -> None:
        rows = lanes[bounds[lane] : bounds[lane + 1]]
        hidden, n_classes = weights[1].shape[0], weights[4].shape[1]
        buffers = slot_state(hidden), lane_scratch(hidden, n_classes)
        f0_lane(bits, shift, starts, lengths_np, rows, *weights, uniforms, float(top_p), GO_TOKEN, out, *buffers)

    in_lanes(run_lane, len(bounds) - 1)
    return out
