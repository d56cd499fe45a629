"""Long packed rows run as bounded, cross-faded windows; short rows are untouched."""

from __future__ import annotations

import torch

from readdsp.core.models.row_windows import OVERLAP_FRAMES, WINDOW_FRAMES, row_windows, window_starts


def test_short_rows_are_not_split() -> None:
    windows = row_windows(torch.tensor([100, WINDOW_FRAMES, 7]), [1, 2, 3])
    assert not windows.split
    assert windows.seeds == [1, 2, 3]
    assert torch.equal(windows.source, torch.arange(WINDOW_FRAMES + 107))


def test_long_rows_are_covered_by_bounded_windows_whose_weights_sum_to_one() -> None:
    lengths = torch.tensor([50, 10 * WINDOW_FRAMES + 3, WINDOW_FRAMES + 1])
    windows = row_windows(lengths, [5, 6, 7])
    assert windows.split
    assert int(windows.lengths.max()) <= WINDOW_FRAMES
    assert windows.seeds[:2] == [5, 6]  # a row's first window keeps the row's seed
    total = torch.zeros(int(lengths.sum())).index_add_(0, windows.source, windows.weight)
    assert torch.allclose(total, torch.ones_like(total), atol=1e-6)
    values = torch.arange(int(lengths.sum()), dtype=torch.float32)[:, None]
    assert torch.allclose(windows.stitch(windows.gather(values)), values, rtol=1e-6)


def test_windows_overlap_by_at_least_the_cross_fade() -> None:
    starts = window_starts(5 * WINDOW_FRAMES, WINDOW_FRAMES, OVERLAP_FRAMES)
    assert starts[0] == 0 and starts[-1] == 4 * WINDOW_FRAMES
    assert all(b - a <= WINDOW_FRAMES - OVERLAP_FRAMES for a, b in zip(starts, starts[1:], strict=False))
