"""Compiled LSTM lanes: up to `SLOTS` packed rows stepped together per lane, numpy in and out (no torch).

A lane steps up to `SLOTS` rows together (each weight row is loaded once per step for all of them), and a slot whose
row ends takes the lane's next row, so padding costs nothing. Every frame's arithmetic is the same whichever slot,
lane or thread its row runs in, so results do not depend on batching or thread count. Lanes run on plain Python
threads (`thread_policy.in_lanes`; the kernels release the GIL) rather than in a numba `prange` kernel: a parallel
kernel costs ~1.5 s of CPU to compile on the first render after install.
"""

from __future__ import annotations

import numba
import numpy as np

SLOTS = 8  # rows a lane steps together


# tanh(x) ~ x P(x^2) / Q(x^2) on |x| <= 9 (beyond, |tanh| rounds to 1 in float32): max error 3.3e-7. Fitted here by
# weighted least squares. Unlike libm's tanh it is plain arithmetic, so the gate loops compile to SIMD code.
_TANH_P = (9.99999906e-01, 1.33731258e-01, 3.48650094e-03, 2.04706779e-05, 1.31829726e-08)
_TANH_Q = (1.0, 4.67064225e-01, 2.58416598e-02, 3.27126068e-04, 7.70207778e-07)


@numba.njit(cache=True, fastmath=True, error_model="numpy", inline="always")
def _tanh(x: float) -> float:
    x = min(max(x, -9.0), 9.0)
    s = x * x
    p = (((_TANH_P[4] * s + _TANH_P[3]) * s + _TANH_P[2]) * s + _TANH_P[1]) * s + _TANH_P[0]
    q = (((_TANH_Q[4] * s + _TANH_Q[3]) * s + _TANH_Q[2]) * s + _TANH_Q[1]) * s + _TANH_Q[0]
    return x * p / q


@numba.njit(cache=True, fastmath=True, error_model="numpy")
def accumulate_products(acc: np.ndarray, x: np.ndarray, w_t: np.ndarray, active: np.ndarray, n_active: int) -> None:
    """acc[s] += x[s] @ w_t for the active slots, four weight rows at a time (one load and store of acc per four
    products, and the rows stay in L1 across slots). The order of the sums is fixed, so results are reproducible."""
    n_in = w_t.shape[0]
    n_out = w_t.shape[1]
    k = 0
    while k + 4 <= n_in:
        for a in range(n_active):
            s = active[a]
            x0, x1, x2, x3 = x[s, k], x[s, k + 1], x[s, k + 2], x[s, k + 3]
            for j in range(n_out):
                acc[s, j] += x0 * w_t[k, j] + x1 * w_t[k + 1, j] + x2 * w_t[k + 2, j] + x3 * w_t[k + 3, j]
        k += 4
    while k < n_in:
        for a in range(n_active):
            s = active[a]
            x0 = x[s, k]
            for j in range(n_out):
                acc[s, j] += x0 * w_t[k, j]
        k += 1


@numba.njit(cache=True, fastmath=True, error_model="numpy")
def lstm_cell(
    gates: np.ndarray,  # [SLOTS, 4H] holding the input part of the gates; overwritten
    h: np.ndarray,  # [SLOTS, H] updated
    c: np.ndarray,  # [SLOTS, H] updated
    w_hh_t: np.ndarray,  # [H, 4H]
    active: np.ndarray,
    n_active: int,
) -> None:
    """One LSTM step (PyTorch gate order: input, forget, cell, output) for the active slots."""
    hidden = h.shape[1]
    accumulate_products(gates, h, w_hh_t, active, n_active)
    for a in range(n_active):
        s = active[a]
        for j in range(4 * hidden):  # sigmoid(x) = (1 + tanh(x/2)) / 2 on the input, forget and output gates
            scale = 1.0 if 2 * hidden <= j < 3 * hidden else 0.5
            gates[s, j] = _tanh(gates[s, j] * scale)
        for j in range(hidden):
            input_gate = 0.5 * gates[s, j] + 0.5
            forget_gate = 0.5 * gates[s, j + hidden] + 0.5
            c[s, j] = forget_gate * c[s, j] + input_gate * gates[s, j + 2 * hidden]
            h[s, j] = (0.5 * gates[s, j + 3 * hidden] + 0.5) * _tanh(c[s, j])


def bit_layout(precision: str) -> tuple[type[np.unsignedinteger], int]:
    """The word type rows of `precision` reach the kernels in, and the shift `widen_row` widens them by: bfloat16 is
    the top half of a float32, so its rows travel as 16-bit words (half the memory the lanes stream)."""
    return (np.uint16, 16) if precision == "bfloat16" else (np.uint32, 0)


@numba.njit(cache=True, fastmath=True, error_model="numpy", inline="always")
def widen_row(bits: np.ndarray, shift: int, widened: np.ndarray) -> None:
    """widened[j] = float32 bits of bits[j] (see `float_bits`); read the result through widened.view(np.float32)."""
    for j in range(bits.shape[0]):
        widened[j] = np.uint32(bits[j]) << shift


def slot_state(hidden: int) -> tuple[np.ndarray, ...]:
    """A lane's buffers: h, c, gates, frame, left, active, fresh, and the float32 row `widen_row` writes (as bits
    and as floats). Allocated here, not in the kernels: numba compiled this tuple for ~1.3 s of CPU."""
    widened = np.empty(4 * hidden, np.uint32)
    return (
        np.zeros((SLOTS, hidden), np.float32),
        np.zeros((SLOTS, hidden), np.float32),
        np.empty((SLOTS, 4 * hidden), np.float32),
        np.zeros(SLOTS, np.int64),
        np.zeros(SLOTS, np.int64),
        np.empty(SLOTS, np.int64),
        np.zeros(SLOTS, np.bool_),
        widened,
        widened.view(np.float32),
    )


@numba.njit(cache=True, fastmath=True, error_model="numpy")
def refill_slots(
    rows: np.ndarray,
    next_row: np.int64,  # not an int: one specialisation to compile
    starts: np.ndarray,
    lengths: np.ndarray,
    reverse: bool | np.bool_,
    frame: np.ndarray,  # [SLOTS] packed index of each slot's next frame
    left: np.ndarray,  # [SLOTS] frames its row has left
    h: np.ndarray,
    c: np.ndarray,
    fresh: np.ndarray,  # [SLOTS] set True where a slot took a new row
    active: np.ndarray,  # [SLOTS] the active slots, first n_active
) -> tuple[np.int64, int]:
    """Give each finished slot the lane's next row (state zeroed) and list the active slots: (next_row, n_active)."""
    n_active = 0
    for s in range(SLOTS):
        fresh[s] = False
        while left[s] == 0 and next_row < rows.shape[0]:
            r = rows[next_row]
            next_row += 1
            left[s] = lengths[r]
            frame[s] = starts[r] + lengths[r] - 1 if reverse else starts[r]
            for j in range(h.shape[1]):
                h[s, j] = 0.0
                c[s, j] = 0.0
            fresh[s] = True
        if left[s] > 0:
            active[n_active] = s
            n_active += 1
    return next_row, n_active


@numba.njit(cache=True, fastmath=True, error_model="numpy", nogil=True)
def lstm_lane(
    gi: np.ndarray,  # [N, 4H] input projection (+ both biases), rows packed, as `float_bits`
    shift: int,
    starts: np.ndarray,
    lengths: np.ndarray,
    rows: np.ndarray,  # the rows this lane runs
    w_hh_t: np.ndarray,
    reverse: bool,
    out: np.ndarray,  # [N, H] hidden states, written
    state: tuple,  # slot_state(H)
) -> None:
    h, c, gates, frame, left, active, fresh, widened, widened_float = state
    step = -1 if reverse else 1
    next_row = np.int64(0)  # not a literal 0: one refill_slots specialisation to compile, not two
    while True:
        next_row, n_active = refill_slots(rows, next_row, starts, lengths, reverse, frame, left, h, c, fresh, active)
        if n_active == 0:
            return
        for a in range(n_active):
            s = active[a]
            widen_row(gi[frame[s]], shift, widened)
            for j in range(widened_float.shape[0]):  # element loops: no shape-check code to compile
                gates[s, j] = widened_float[j]
        lstm_cell(gates, h, c, w_hh_t, active, n_active)
        for a in range(n_active):
            s = active[a]
            for j in range(h.shape[1]):
                out[frame[s], j] = h[s, j]
            frame[s] += step
            left[s] -= 1


def balanced_lanes(lengths: np.ndarray, n_lanes: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows dealt to `n_lanes` lanes, longest first to the least-loaded lane; (row order, lane boundaries)."""
    loads = np.zeros(n_lanes)
    members: list[list[int]] = [[] for _ in range(n_lanes)]
    for row in np.argsort(-lengths, kind="stable"):
        lane = int(np.argmin(loads))
        members[lane].append(int(row))
        loads[lane] += lengths[row]
    bounds = np.cumsum([0] + [len(m) for m in members])
    return np.array([r for m in members for r in m], np.int64), bounds.astype(np.int64)


def row_starts(lengths: np.ndarray) -> np.ndarray:
    """First packed frame of each row."""
    return np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)


def lane_split(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`balanced_lanes` over as many lanes as numba has threads (at most one per row)."""
    return balanced_lanes(lengths, max(1, min(numba.get_num_threads(), len(lengths))))
