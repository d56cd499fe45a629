"""Independent LSTM rows packed end to end, stepped by the compiled lanes on all cores: the inference recurrences.

The lanes themselves are in `core.kernels.lstm_lanes` (numpy only, so they can be compiled before torch loads).
"""

from __future__ import annotations

import numpy as np
import torch

from readdsp.core.kernels.lstm_lanes import bit_layout, lane_split, lstm_lane, row_starts, slot_state
from readdsp.core.kernels.warmup import wait_for_kernels
from readdsp.core.thread_policy import in_lanes


def float_bits(values: torch.Tensor) -> tuple[np.ndarray, int]:
    """A float32 or bfloat16 tensor as unsigned bits for the kernels, and the shift that widens them to float32
    (`bit_layout`)."""
    if values.dtype == torch.bfloat16:
        words, shift = bit_layout("bfloat16")
        return values.contiguous().view(torch.int16).numpy().view(words), shift
    words, shift = bit_layout("float32")
    return values.float().contiguous().numpy().view(words), shift


def lstm_packed(gi: torch.Tensor, lengths: np.ndarray, w_hh_t: np.ndarray, reverse: bool = False) -> np.ndarray:
    """Hidden states [N, H] of one LSTM direction over packed rows, given the input projection `gi` [N, 4H]
    (float32 or bfloat16)."""
    wait_for_kernels("lstm_lanes")
    lengths = np.asarray(lengths, np.int64)
    lanes, bounds = lane_split(lengths)
    gi_bits, shift = float_bits(gi)
    starts = row_starts(lengths)
    w = np.ascontiguousarray(w_hh_t, np.float32)
    out = np.empty((gi_bits.shape[0], w.shape[0]), np.float32)

    def run_lane(lane: int) -> None:
        rows = lanes[bounds[lane] : bounds[lane + 1]]
        lstm_lane(gi_bits, shift, starts, lengths, rows, w, bool(reverse), out, slot_state(w.shape[0]))

    in_lanes(run_lane, len(bounds) - 1)
    return out
