"""Bar lines in seconds for the ruler: a MIDI file's from its tempo map and time signatures, a REAPER item's as sent."""

from __future__ import annotations

from collections.abc import Sequence

from readdsp.core.performance import Performance
from readdsp.core.tempo_map import TempoMap
from readdsp.reaper_ext.panel_link import BarLine

MAX_BARS = 10_000


def bar_times(performance: Performance, end_s: float) -> list[tuple[float, int]]:
    """(time in seconds, bar number from 1) of every bar line up to `end_s`."""
    tpb = performance.ticks_per_beat if performance.ticks_per_beat > 0 else 480
    tempo = TempoMap.from_bpm(performance.tempo_map or [(0.0, 120.0)], tpb)
    end_tick = tempo.to_ticks(end_s)
    signatures = sorted(performance.time_signatures or [(0.0, 4, 4)])
    starts = [tempo.to_ticks(t) for t, _, _ in signatures] + [end_tick + 1]
    bars: list[tuple[float, int]] = []
    for (_, numerator, denominator), start, stop in zip(signatures, starts, starts[1:], strict=False):
        length = max(tpb * 4 * numerator / max(denominator, 1), 1.0)
        tick = float(start)
        while tick < stop and tick <= end_tick and len(bars) < MAX_BARS:
            bars.append((tempo.to_seconds(tick), len(bars) + 1))
            tick += length
    return bars


def item_bar_times(bars: Sequence[BarLine], end_s: float) -> list[tuple[float, int]]:
    """(time in seconds from the item start, REAPER's bar number) of the engine's bars that start by `end_s`."""
    return [(bar.seconds, bar.number) for bar in bars[:MAX_BARS] if bar.seconds <= end_s]
