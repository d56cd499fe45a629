"""The Expression Generator's GRUs stepped in numpy for inference: the BiGRU context and the autoregressive loop.

Each step is a few small products on [voices, 128] rows. Through torch it cost ~0.3 ms a note on one thread and
~1 ms with torch's OpenMP workers sleeping between steps (passive waiting, `core.thread_policy`): 1.6 s of a
6-minute quartet's render, on one core. numpy steps on the calling thread alone, ~0.1 ms a note.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


def _array(tensor: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(tensor.detach().to(torch.float32).numpy())


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    centred = x - x.mean(axis=-1, keepdims=True)
    return centred / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + eps) * weight + bias


def gru_step(gates_in: np.ndarray, h: np.ndarray, w_hh_t: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    """One step of torch's GRU: `gates_in` = W_ih x + b_ih ([B, 3H], gate order r, z, n) -> the new h [B, H]."""
    hidden = h.shape[-1]
    gates_h = h @ w_hh_t + b_hh
    reset_update = 0.5 + 0.5 * np.tanh(0.5 * (gates_in[:, : 2 * hidden] + gates_h[:, : 2 * hidden]))  # sigmoid
    reset, update = reset_update[:, :hidden], reset_update[:, hidden:]
    candidate = np.tanh(gates_in[:, 2 * hidden :] + reset * gates_h[:, 2 * hidden :])
    return candidate + update * (h - candidate)


def gru_sequence(
    gates_in: np.ndarray, w_hh_t: np.ndarray, b_hh: np.ndarray, lengths: np.ndarray, reverse: bool
) -> np.ndarray:
    """A GRU direction over padded rows ([B, N, 3H] input gates, each row `lengths[b]` long) -> [B, N, H], zero
    past each row's end; `reverse` runs each row from its own last step, as torch's packed sequences do."""
    batch, n_steps, _ = gates_in.shape
    hidden = w_hh_t.shape[0]
    steps = np.arange(n_steps)
    order = np.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps) if reverse else None
    rows = np.arange(batch)[:, None]
    gates = gates_in[rows, order] if reverse else gates_in
    out = np.zeros((batch, n_steps, hidden), np.float32)
    h = np.zeros((batch, hidden), np.float32)
    for step in range(n_steps):
        h = gru_step(gates[:, step], h, w_hh_t, b_hh)
        out[:, step] = h
    out[steps[None, :] >= lengths[:, None]] = 0.0
    return out[rows, order] if reverse else out


def gru_weights(gru: nn.GRU, suffix: str = "") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A one-layer GRU direction's weights as numpy (`suffix` "_reverse" for the backward one): W_ih^T [in, 3H],
    b_ih, W_hh^T [H, 3H], b_hh."""
    return (
        _array(gru.get_parameter(f"weight_ih_l0{suffix}").T),
        _array(gru.get_parameter(f"bias_ih_l0{suffix}")),
        _array(gru.get_parameter(f"weight_hh_l0{suffix}").T),
        _array(gru.get_parameter(f"bias_hh_l0{suffix}")),
    )


def bidirectional_gru(gru: nn.GRU, x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A one-layer bidirectional GRU over padded rows [B, N, in] (row b `lengths[b]` long) -> [B, N, 2H], as torch
    computes it on packed sequences: zero past each row's end, the backward pass from each row's own last step."""
    directions = []
    for suffix, reverse in (("", False), ("_reverse", True)):
        w_ih_t, b_ih, w_hh_t, b_hh = gru_weights(gru, suffix)
        directions.append(gru_sequence(x @ w_ih_t + b_ih, w_hh_t, b_hh, lengths, reverse))
    return np.concatenate(directions, axis=-1)


@dataclass
class NoteDecoder:
    """A GRU layer whose input is [context, the previous step's controls], then LayerNorm and an FcStack head
    (Linear, LayerNorm, LeakyReLU, ...)."""

    w_ih_t: np.ndarray  # [context + controls, 3H]
    b_ih: np.ndarray
    w_hh_t: np.ndarray  # [H, 3H]
    b_hh: np.ndarray
    norm: tuple[np.ndarray, np.ndarray, float]
    head: list[tuple[str, tuple]]  # ("linear", (w_t, b)) | ("norm", (w, b, eps)) | ("leaky", (slope,))

    @classmethod
    def from_modules(cls, gru: nn.GRU, norm: nn.LayerNorm, head: nn.Sequential) -> NoteDecoder:
        """The decoder of `gru` (one layer) and its head."""
        layers: list[tuple[str, tuple]] = []
        for layer in head:
            if isinstance(layer, nn.Linear):
                layers.append(("linear", (_array(layer.weight.T), _array(layer.bias))))
            elif isinstance(layer, nn.LayerNorm):
                layers.append(("norm", (_array(layer.weight), _array(layer.bias), layer.eps)))
            elif isinstance(layer, nn.LeakyReLU):
                layers.append(("leaky", (layer.negative_slope,)))
            else:
                raise TypeError(f"NoteDecoder has no numpy form of {type(layer).__name__}")
        return cls(*gru_weights(gru), (_array(norm.weight), _array(norm.bias), norm.eps), layers)

    def run(self, context: np.ndarray, note_mask: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
        """[B, N, C] context, [B, N] 1 on notes, 0 on rests -> [B, N, controls], each step's controls (plus
        `offset` [B, N, controls] if given) clipped to [0, 1], zeroed on rests and fed to the next step."""
        batch, n_steps, n_context = context.shape
        context_gates = context @ self.w_ih_t[:n_context] + self.b_ih  # every step's at once
        w_previous_t = self.w_ih_t[n_context:]
        h = np.zeros((batch, self.w_hh_t.shape[0]), np.float32)
        previous = np.zeros((batch, w_previous_t.shape[0]), np.float32)
        out = np.empty((batch, n_steps, w_previous_t.shape[0]), np.float32)
        for step in range(n_steps):
            h = gru_step(context_gates[:, step] + previous @ w_previous_t, h, self.w_hh_t, self.b_hh)
            x = _layer_norm(h, *self.norm)
            for kind, params in self.head:
                if kind == "linear":
                    x = x @ params[0] + params[1]
                elif kind == "norm":
                    x = _layer_norm(x, *params)
                else:
                    x = np.where(x > 0, x, x * np.float32(params[0]))
            if offset is not None:
                x = x + offset[:, step]
            previous = np.clip(x, 0.0, 1.0) * note_mask[:, step : step + 1]
            out[:, step] = previous
        return out
