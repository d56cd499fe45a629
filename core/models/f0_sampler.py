"""The autoregressive f0 loop, compiled with numba: LSTM step + LayerNorm + 201-way nucleus sampling per frame.

The reference steps an eager TensorFlow GRU once per 4 ms frame (slower than real time). Here the part of the
recurrent input projection that depends on the conditioning is precomputed for all frames in one matrix product, the
previous-output embedding is folded into a 202-row table, and the per-frame work is three small mat-vecs in a
compiled loop with pre-drawn uniforms, so it is exact and deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np
import torch

from readdsp.core.models.synthesis_generator import GO_TOKEN, N_F0_CLASSES


@numba.njit(cache=True)
def _nucleus_sample(logits: np.ndarray, top_p: float, u: float) -> int:
    m = logits.max()
    probs = np.exp(logits - m)
    probs /= probs.sum()
    if top_p <= 0.0:
        return int(np.argmax(probs))
    # The nucleus is usually a handful of classes: pick them largest-first instead of sorting all 201.
    taken = np.zeros(probs.shape[0], np.bool_)
    order = np.empty(probs.shape[0], np.int64)
    total = 0.0
    n_keep = 0
    while total < top_p:
        if n_keep == 16:  # a flat distribution: sorting is cheaper from here on
            order = np.argsort(-probs)
            total = 0.0
            n_keep = 0
            while total < top_p and n_keep < probs.shape[0]:
                total += probs[order[n_keep]]
                n_keep += 1
            break
        best = -1
        best_p = -1.0
        for i in range(probs.shape[0]):
            if not taken[i] and probs[i] > best_p:
                best, best_p = i, probs[i]
        taken[best] = True
        order[n_keep] = best
        n_keep += 1
        total += best_p
    target = u * total
    acc = 0.0
    for i in range(n_keep):
        acc += probs[order[i]]
        if acc >= target:
            return int(order[i])
    return int(order[n_keep - 1])


@numba.njit(cache=True, fastmath=True)
def _run_loop(
    gi_context: np.ndarray,  # [B, T, 4H] conditioning part of the input projection (+ both biases)
    prev_table: np.ndarray,  # [202, 4H] previous-class embedding projected by W_ih
    w_hh_t: np.ndarray,  # [H, 4H]
    ln_gamma: np.ndarray,
    ln_beta: np.ndarray,
    w_out_t: np.ndarray,  # [H, 201]
    b_out: np.ndarray,
    uniforms: np.ndarray,  # [B, T]
    top_p: float,
    go_token: int,
) -> np.ndarray:
    n_batch, n_frames, four_h = gi_context.shape
    hidden = four_h // 4
    out = np.empty((n_batch, n_frames), np.int64)
    h = np.zeros((n_batch, hidden), np.float32)
    c = np.zeros((n_batch, hidden), np.float32)
    normed = np.zeros((n_batch, hidden), np.float32)
    prev = np.full(n_batch, go_token, np.int64)
    # All rows advance together, so each step is two small matrix products (BLAS) and fused element loops.
    for t in range(n_frames):
        recurrent = np.dot(h, w_hh_t)
        for b in range(n_batch):
            row_gi = gi_context[b, t]
            row_prev = prev_table[prev[b]]
            total = 0.0
            for j in range(hidden):  # PyTorch gate order: input, forget, cell, output
                gate_i = 1.0 / (1.0 + np.exp(-(row_gi[j] + row_prev[j] + recurrent[b, j])))
                k = j + hidden
                gate_f = 1.0 / (1.0 + np.exp(-(row_gi[k] + row_prev[k] + recurrent[b, k])))
                k += hidden
                gate_g = np.tanh(row_gi[k] + row_prev[k] + recurrent[b, k])
                k += hidden
                gate_o = 1.0 / (1.0 + np.exp(-(row_gi[k] + row_prev[k] + recurrent[b, k])))
                c[b, j] = gate_f * c[b, j] + gate_i * gate_g
                h[b, j] = gate_o * np.tanh(c[b, j])
                total += h[b, j]
            mu = total / hidden
            var = 0.0
            for j in range(hidden):
                var += (h[b, j] - mu) ** 2
            scale = 1.0 / np.sqrt(var / hidden + 1e-5)
            for j in range(hidden):
                normed[b, j] = (h[b, j] - mu) * scale * ln_gamma[j] + ln_beta[j]
        logits = np.dot(normed, w_out_t)
        for b in range(n_batch):
            prev[b] = _nucleus_sample(logits[b] + b_out, top_p, uniforms[b, t])
            out[b, t] = prev[b]
    return out


def _np(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32))


def row_uniforms(seeds: Sequence[int], n_frames: int) -> np.ndarray:
    """[B, T] uniforms, one independent stream per row, so a row's f0 does not depend on its batch mates."""
    return np.stack([np.random.default_rng([int(s) & 0xFFFFFFFF, 0xF0]).random(n_frames) for s in seeds])


def sample_f0_classes(model, context: torch.Tensor, seed: int | Sequence[int] = 0, top_p: float = 0.95) -> torch.Tensor:
    """Run the f0 LSTM of `model` (a SynthesisGenerator) over `context` [B, T, D]; returns classes [B, T].

    `seed` is one seed per row (or one int, used for every row).
    """
    rnn = model.f0_rnn
    d_ctx = context.shape[-1]
    w_ih = rnn.weight_ih_l0
    gi_context = torch.matmul(context, w_ih[:, :d_ctx].T) + rnn.bias_ih_l0 + rnn.bias_hh_l0
    prev_table = model.f0_prev.weight @ w_ih[:, d_ctx:].T
    assert prev_table.shape[0] == N_F0_CLASSES + 1
    seeds = [seed] * context.shape[0] if isinstance(seed, int) else list(seed)
    classes = _run_loop(
        _np(gi_context),
        _np(prev_table),
        _np(rnn.weight_hh_l0.T),
        _np(model.f0_norm.weight),
        _np(model.f0_norm.bias),
        _np(model.f0_out.weight.T),
        _np(model.f0_out.bias),
        row_uniforms(seeds, context.shape[1]),
        float(top_p),
        GO_TOKEN,
    )
    return torch.from_numpy(classes)
