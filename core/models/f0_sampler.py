"""The autoregressive f0 loop, compiled with numba: LSTM step + LayerNorm + 201-way nucleus sampling per frame.

The reference steps an eager TensorFlow GRU once per 4 ms frame (slower than real time). Here the part of the
recurrent input projection that depends on the conditioning is precomputed for all frames in one matrix product, the
previous-output embedding is folded into a 202-row table, and the per-frame work is three small mat-vecs in a
compiled loop with pre-drawn uniforms, so it is exact and deterministic for a seed.
"""

from __future__ import annotations

import numba
import numpy as np
import torch

from readdsp.core.models.synthesis_generator import GO_TOKEN, N_F0_CLASSES


@numba.njit(cache=True, fastmath=False)
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


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


@numba.njit(cache=True)
def _run_loop(
    gi_context: np.ndarray,  # [B, T, 4H] float32: conditioning part of the input projection (+ both biases)
    prev_table: np.ndarray,  # [202, 4H] previous-class embedding projected by W_ih (weights are float64)
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
    h = np.zeros((n_batch, hidden), np.float64)
    c = np.zeros((n_batch, hidden), np.float64)
    prev = np.full(n_batch, go_token, np.int64)
    gates = np.empty((n_batch, four_h), np.float64)
    # All voices/segments advance together so each step is a small matrix product, not B mat-vecs.
    for t in range(n_frames):
        recurrent = np.dot(h, w_hh_t)
        for b in range(n_batch):
            gates[b] = gi_context[b, t] + prev_table[prev[b]] + recurrent[b]
        i = _sigmoid(gates[:, :hidden])  # PyTorch gate order: input, forget, cell, output
        f = _sigmoid(gates[:, hidden : 2 * hidden])
        g = np.tanh(gates[:, 2 * hidden : 3 * hidden])
        o = _sigmoid(gates[:, 3 * hidden :])
        c = f * c + i * g
        h = o * np.tanh(c)
        normed = np.empty_like(h)
        for b in range(n_batch):
            mu = h[b].mean()
            var = ((h[b] - mu) ** 2).mean()
            normed[b] = (h[b] - mu) / np.sqrt(var + 1e-5) * ln_gamma + ln_beta
        logits = np.dot(normed, w_out_t) + b_out
        for b in range(n_batch):
            prev[b] = _nucleus_sample(logits[b], top_p, uniforms[b, t])
            out[b, t] = prev[b]
    return out


def _np(t: torch.Tensor, dtype: type = np.float64) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy().astype(dtype))


def sample_f0_classes(model, context: torch.Tensor, seed: int = 0, top_p: float = 0.95) -> torch.Tensor:
    """Run the f0 LSTM of `model` (a SynthesisGenerator) over `context` [B, T, D]; returns classes [B, T]."""
    rnn = model.f0_rnn
    d_ctx = context.shape[-1]
    w_ih = rnn.weight_ih_l0
    gi_context = torch.matmul(context, w_ih[:, :d_ctx].T) + rnn.bias_ih_l0 + rnn.bias_hh_l0
    prev_table = model.f0_prev.weight @ w_ih[:, d_ctx:].T
    assert prev_table.shape[0] == N_F0_CLASSES + 1
    uniforms = np.random.default_rng(seed).random(context.shape[:2]).astype(np.float64)
    classes = _run_loop(
        _np(gi_context, np.float32),  # the only large array: kept in float32
        _np(prev_table),
        _np(rnn.weight_hh_l0.T),
        _np(model.f0_norm.weight),
        _np(model.f0_norm.bias),
        _np(model.f0_out.weight.T),
        _np(model.f0_out.bias),
        uniforms,
        float(top_p),
        GO_TOKEN,
    )
    return torch.from_numpy(classes)
