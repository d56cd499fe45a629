"""Long packed rows cut into overlapping windows of bounded length, and the windows' outputs cross-faded back.

Why: the recurrences step each row sequentially in one lane, so a call costs as long as its longest row whatever
else it holds, and a lone long row (a note held for minutes) leaves the other lanes and slots idle. Cut into
windows no longer than the segments training saw, every row is short, lanes stay balanced, and the cost per second
of music stays flat. Rows no longer than the window are untouched (same seed, same output).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

WINDOW_FRAMES = 2250  # 9 s: longer than any rest-and-note-boundary segment (8 s + lead + tail), so those never split
OVERLAP_FRAMES = 250  # 1 s cross-fade between consecutive windows of a row


@dataclass
class RowWindows:
    """Where each window frame comes from (`source`, packed index) and its cross-fade weight; window lengths/seeds."""

    source: torch.Tensor  # [M] packed frame index of each window frame
    weight: torch.Tensor  # [M] float32; the weights of one frame's windows sum to 1
    row_of_window: torch.Tensor  # [W] the row each window belongs to
    lengths: torch.Tensor  # [W]
    seeds: list[int]
    n_frames: int

    @property
    def split(self) -> bool:
        """True if some row was cut (otherwise the windows are the rows themselves)."""
        return len(self.lengths) != int(self.row_of_window.max()) + 1 if len(self.lengths) else False

    def gather(self, packed: torch.Tensor) -> torch.Tensor:
        """Per-frame values [N, ...] laid out as the windows' frames [M, ...]."""
        return packed[self.source]

    def stitch(self, windowed: torch.Tensor) -> torch.Tensor:
        """Window outputs [M, ...] cross-faded back to [N, ...] (float32)."""
        weight = self.weight.reshape(-1, *([1] * (windowed.dim() - 1)))
        out = torch.zeros(self.n_frames, *windowed.shape[1:], dtype=torch.float32)
        return out.index_add_(0, self.source, windowed.float() * weight)


def window_starts(length: int, window: int, overlap: int) -> list[int]:
    """Starts of the fewest windows of `window` frames covering `length` with at least `overlap` shared frames."""
    if length <= window:
        return [0]
    count = -(-(length - overlap) // (window - overlap))
    return [round(w * (length - window) / (count - 1)) for w in range(count)]


def window_seed(seed: int, index: int) -> int:
    """The row's own seed for its first window; an independent derived seed for the others."""
    return seed if index == 0 else int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def row_windows(
    lengths: torch.Tensor, seeds: list[int], window: int = WINDOW_FRAMES, overlap: int = OVERLAP_FRAMES
) -> RowWindows:
    """Cut rows longer than `window` frames into overlapping windows with linear cross-fades."""
    sources, weights, rows, window_lengths, window_seeds = [], [], [], [], []
    row_start = 0
    for row, (length, seed) in enumerate(zip(lengths.tolist(), seeds, strict=True)):
        starts = window_starts(length, window, overlap)
        ends = [min(s + window, length) for s in starts]
        for w, (start, end) in enumerate(zip(starts, ends, strict=True)):
            weight = np.ones(end - start, np.float32)
            if w > 0:  # fade in over the overlap with the previous window
                fade = ends[w - 1] - start
                weight[:fade] = (np.arange(fade) + 0.5) / fade
            if w + 1 < len(starts):  # fade out over the overlap with the next window
                fade = end - starts[w + 1]
                weight[end - start - fade :] = 1.0 - (np.arange(fade) + 0.5) / fade
            sources.append(np.arange(row_start + start, row_start + end))
            weights.append(weight)
            rows.append(row)
            window_lengths.append(end - start)
            window_seeds.append(window_seed(seed, w))
        row_start += length
    return RowWindows(
        torch.from_numpy(np.concatenate(sources)) if sources else torch.zeros(0, dtype=torch.long),
        torch.from_numpy(np.concatenate(weights)) if weights else torch.zeros(0),
        torch.tensor(rows, dtype=torch.long),
        torch.tensor(window_lengths, dtype=torch.long),
        window_seeds,
        row_start,
    )
