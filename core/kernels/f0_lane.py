"""The compiled autoregressive f0 lane: LSTM step + LayerNorm + 201-way nucleus sampling per frame (no torch).

Rows run through the `lstm_lanes` slots in lock step; each frame's sampled class feeds the row's next step.
"""

from __future__ import annotations

import numba
import numpy as np

from readdsp.core.kernels.lstm_lanes import SLOTS, accumulate_products, lstm_cell, refill_slots, widen_row

NEGLIGIBLE_LOGIT = 20.0  # classes this far below the best have probability < 2e-9: left out of the nucleus


@numba.njit(cache=True, fastmath=True, error_model="numpy")
def nucleus_sample(logits: np.ndarray, top_p: float, u: float, probs: np.ndarray) -> int:
    """Draw from the most probable classes that hold `top_p` of the probability (argmax when top_p <= 0).

    The nucleus is {p >= tau} for the largest threshold tau that keeps `top_p` of the mass, found by bisection to
    2^-20 of the top probability: no sort, and every pass is a vector loop (the trained f0 nucleus often holds tens
    of classes, where a sort dominates the step). The draw walks the nucleus in class order.
    """
    best = 0
    for i in range(logits.shape[0]):
        if logits[i] > logits[best]:
            best = i
    if top_p <= 0.0:
        return best
    top = logits[best]
    total = np.float32(0.0)
    for i in range(logits.shape[0]):
        p = np.exp(logits[i] - top) if logits[i] > top - NEGLIGIBLE_LOGIT else np.float32(0.0)
        probs[i] = p
        total += p
    target = top_p * total
    low, high = np.float32(0.0), np.float32(1.0)  # mass(p >= low) >= target > mass(p >= high), as p(best) = 1
    for _ in range(20):
        middle = np.float32(0.5) * (low + high)
        mass = np.float32(0.0)
        for i in range(probs.shape[0]):
            mass += probs[i] if probs[i] >= middle else np.float32(0.0)
        if mass >= target:
            low = middle
        else:
            high = middle
    kept = np.float32(0.0)
    for i in range(probs.shape[0]):
        kept += probs[i] if probs[i] >= low else np.float32(0.0)
    pick = u * kept
    acc = np.float32(0.0)
    for i in range(probs.shape[0]):
        if probs[i] >= low:
            acc += probs[i]
            if acc >= pick:
                return i
    return best


@numba.njit(cache=True, fastmath=True, error_model="numpy", nogil=True)
def f0_lane(
    gi_context: np.ndarray,  # [N, 4H] conditioning part of the input projection (+ both biases), as `float_bits`
    shift: int,
    starts: np.ndarray,  # [R] first packed frame of each row
    lengths: np.ndarray,  # [R]
    rows: np.ndarray,  # the rows this lane runs, in order
    prev_table: np.ndarray,  # [202, 4H] previous-class embedding projected by W_ih
    w_hh_t: np.ndarray,  # [H, 4H]
    ln_gamma: np.ndarray,
    ln_beta: np.ndarray,
    w_out_t: np.ndarray,  # [H, 201]
    b_out: np.ndarray,
    uniforms: np.ndarray,  # [N]
    top_p: float,
    go_token: int,
    out: np.ndarray,  # [N] classes, written
    state: tuple,  # slot_state(H)
    scratch: tuple,  # lane_scratch(H, 201)
) -> None:
    """Rows through `SLOTS` slots in lock step (see lstm_lanes); each frame's class feeds the row's next step."""
    hidden = w_hh_t.shape[0]
    h, c, gates, frame, left, active, fresh, widened, widened_float = state
    normed, logits, probs, prev = scratch
    next_row = np.int64(0)  # typed, not literals: the refill_slots specialisation the BiLSTM lanes compiled
    forward = np.bool_(False)
    while True:
        next_row, n_active = refill_slots(rows, next_row, starts, lengths, forward, frame, left, h, c, fresh, active)
        if n_active == 0:
            return
        for s in range(SLOTS):
            if fresh[s]:
                prev[s] = go_token
        for a in range(n_active):
            s = active[a]
            widen_row(gi_context[frame[s]], shift, widened)
            for j in range(4 * hidden):
                gates[s, j] = widened_float[j] + prev_table[prev[s], j]
        lstm_cell(gates, h, c, w_hh_t, active, n_active)
        for a in range(n_active):  # LayerNorm, then the output layer's bias
            s = active[a]
            mu = np.float32(0.0)
            for j in range(hidden):
                mu += h[s, j]
            mu /= hidden
            var = np.float32(0.0)
            for j in range(hidden):
                var += (h[s, j] - mu) ** 2
            scale = 1.0 / np.sqrt(var / hidden + 1e-5)
            for j in range(hidden):
                normed[s, j] = (h[s, j] - mu) * scale * ln_gamma[j] + ln_beta[j]
            for j in range(b_out.shape[0]):  # element loop: no shape-check code to compile
                logits[s, j] = b_out[j]
        accumulate_products(logits, normed, w_out_t, active, n_active)
        for a in range(n_active):
            s = active[a]
            prev[s] = nucleus_sample(logits[s], top_p, uniforms[frame[s]], probs)
            out[frame[s]] = prev[s]
            frame[s] += 1
            left[s] -= 1


def lane_scratch(hidden: int, n_classes: int) -> tuple[np.ndarray, ...]:
    """A lane's LayerNorm output, logits, probabilities and each slot's previous class (allocated outside the
    kernel: less to compile)."""
    return (
        np.empty((SLOTS, hidden), np.float32),
        np.empty((SLOTS, n_classes), np.float32),
        np.empty(n_classes, np.float32),
        np.empty(SLOTS, np.int64),
    )
