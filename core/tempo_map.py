"""The one tempo map (MIDI files and REAPER projects): musical position <-> seconds, square steps and linear ramps.

A position is counted in *units*: MIDI ticks for a MIDI file (`units_per_qn` = ticks per beat) or quarter notes
for a REAPER project (`units_per_qn` = 1). Each tempo point holds until the next one (square), or, when it is
`linear`, its tempo ramps linearly **in time** to the next point's tempo. That is REAPER's linear tempo shape
(`PT time bpm 0` in `<TEMPOENVEX`): the tempo at time t between points (t0, b0) and (t1, b1) is
b0 + (b1 - b0) (t - t0) / (t1 - t0), so the quarter notes in the ramp are the trapezoid (b0 + b1) / 2 * (t1 - t0) / 60
(as SWS's `MeasureAtPosition` computes it). Square segments use the MIDI file arithmetic
(units * microseconds per quarter / 1e6 / units_per_qn), so tick times are exactly what they always were.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

from readdsp.core.errors import ReaDDSPError

DEFAULT_US_PER_QN = 500_000  # 120 bpm
MIN_BPM, MAX_BPM = 1.0, 10_000.0


@dataclass(frozen=True)
class TempoPoint:
    position: float  # units from the start
    seconds: float
    us_per_qn: float  # microseconds per quarter note at the point
    linear: bool = False  # ramps linearly in time to the next point's tempo

    @property
    def bpm(self) -> float:
        return 60e6 / self.us_per_qn


def check_bpm(bpm: float, where: str = "tempo") -> float:
    """`bpm` as a float, or a ReaDDSPError if it is not a finite tempo between 1 and 10000 bpm."""
    try:
        value = float(bpm)
    except (TypeError, ValueError):
        raise ReaDDSPError(f"{where}: {bpm!r} is not a number") from None
    if not math.isfinite(value) or not MIN_BPM <= value <= MAX_BPM:
        raise ReaDDSPError(f"{where}: {bpm!r} bpm is outside {MIN_BPM:g}..{MAX_BPM:g}")
    return value


class TempoMap:
    """Tempo points in order, the first at position 0 and 0 s; converts positions <-> seconds."""

    def __init__(self, points: Sequence[TempoPoint], units_per_qn: float = 1.0):
        self.points = tuple(points) or (TempoPoint(0.0, 0.0, DEFAULT_US_PER_QN),)
        self.units_per_qn = units_per_qn
        self._positions = [p.position for p in self.points]
        self._seconds = [p.seconds for p in self.points]

    # --- construction ----------------------------------------------------------------------------------------
    @classmethod
    def from_midi(cls, changes: Sequence[tuple[int, int]], ticks_per_beat: int) -> TempoMap:
        """From (tick, microseconds per beat) `set_tempo` events in order; later entries at the same tick win."""
        merged: dict[int, int] = {0: DEFAULT_US_PER_QN}
        for tick, tempo in changes:
            if tempo <= 0:
                raise ReaDDSPError(f"set_tempo {tempo} at tick {tick}: a tempo must be above 0")
            merged[int(tick)] = int(tempo)
        ticks = sorted(merged)
        points = [TempoPoint(0.0, 0.0, merged[0])]
        for previous, tick in zip(ticks, ticks[1:], strict=False):
            span = tick - previous
            seconds = points[-1].seconds + span * merged[previous] / 1e6 / ticks_per_beat
            points.append(TempoPoint(float(tick), seconds, merged[tick]))
        return cls(points, ticks_per_beat)

    @classmethod
    def from_bpm(cls, tempo_map: Sequence[tuple[float, float]], ticks_per_beat: int) -> TempoMap:
        """From a Performance's [(seconds, bpm)] list, placing each change on the nearest tick."""
        changes: list[tuple[int, int]] = []
        tick_pos, sec_pos, tempo = 0, 0.0, DEFAULT_US_PER_QN
        for seconds, bpm in sorted(tempo_map):
            new_tempo = min(max(round(60e6 / max(float(bpm), 4.0)), 1), 0xFFFFFF)
            seconds = max(float(seconds), 0.0)
            tick_pos += round((seconds - sec_pos) * 1e6 / tempo * ticks_per_beat)
            sec_pos = seconds
            changes.append((tick_pos, new_tempo))
            tempo = new_tempo
        return cls.from_midi(changes, ticks_per_beat)

    @classmethod
    def from_seconds(cls, points: Sequence[tuple[float, float, bool]], default_bpm: float = 120.0) -> TempoMap:
        """From REAPER tempo points (seconds, bpm, linear), positions in quarter notes; sorted, first at 0 s."""
        cleaned = sorted((max(0.0, float(t)), check_bpm(b), bool(linear)) for t, b, linear in points)
        if not cleaned or cleaned[0][0] > 0.0:
            cleaned.insert(0, (0.0, cleaned[0][1] if cleaned else check_bpm(default_bpm), False))
        out = [TempoPoint(0.0, 0.0, 60e6 / cleaned[0][1], cleaned[0][2])]
        for seconds, bpm, linear in cleaned[1:]:
            previous = out[-1]
            span = seconds - previous.seconds
            end_bpm = bpm if previous.linear else previous.bpm
            qn = previous.position + (previous.bpm + end_bpm) / 2 * span / 60.0
            out.append(TempoPoint(qn, seconds, 60e6 / bpm, linear))
        return cls(out, 1.0)

    # --- conversion ------------------------------------------------------------------------------------------
    def _ramp(self, i: int) -> tuple[float, float] | None:
        """(start bpm, bpm change per second) of segment i when it is a linear ramp, else None."""
        point = self.points[i]
        if not point.linear or i + 1 >= len(self.points):
            return None
        following = self.points[i + 1]
        length = following.seconds - point.seconds
        if length <= 0:
            return None
        return point.bpm, (following.bpm - point.bpm) / length

    def to_seconds(self, position: float) -> float:
        """Seconds at `position` (units); positions before 0 use the first tempo."""
        i = max(0, bisect.bisect_right(self._positions, position) - 1)
        point = self.points[i]
        ramp = self._ramp(i)
        if ramp is None:
            return point.seconds + (position - point.position) * point.us_per_qn / 1e6 / self.units_per_qn
        bpm0, slope = ramp
        beats60 = 60.0 * (position - point.position) / self.units_per_qn  # = bpm0 * tau + slope * tau^2 / 2
        # the stable root of slope/2 tau^2 + bpm0 tau - beats60 = 0
        return point.seconds + 2 * beats60 / (bpm0 + math.sqrt(max(bpm0 * bpm0 + 2 * slope * beats60, 0.0)))

    def to_position(self, seconds: float) -> float:
        """Position (units) at `seconds`; times before 0 use the first tempo."""
        i = max(0, bisect.bisect_right(self._seconds, seconds) - 1)
        point = self.points[i]
        tau = seconds - point.seconds
        ramp = self._ramp(i)
        if ramp is None:
            return point.position + tau * 1e6 / point.us_per_qn * self.units_per_qn
        bpm0, slope = ramp
        return point.position + (bpm0 * tau + slope * tau * tau / 2) / 60.0 * self.units_per_qn

    def to_ticks(self, seconds: float) -> int:
        """The nearest whole unit (a MIDI tick) at `seconds` (clamped to 0)."""
        seconds = max(float(seconds), 0.0)
        i = bisect.bisect_right(self._seconds, seconds) - 1
        point = self.points[i]
        if self._ramp(i) is not None:
            return round(self.to_position(seconds))
        return int(point.position) + round((seconds - point.seconds) * 1e6 / point.us_per_qn * self.units_per_qn)

    def bpm_at(self, seconds: float) -> float:
        i = max(0, bisect.bisect_right(self._seconds, seconds) - 1)
        ramp = self._ramp(i)
        if ramp is None:
            return self.points[i].bpm
        return ramp[0] + ramp[1] * (seconds - self.points[i].seconds)

    def as_bpm(self) -> list[tuple[float, float]]:
        """[(seconds, bpm)] of the points, with repeated tempos merged (ramps read as steps)."""
        out: list[tuple[float, float]] = []
        previous = None
        for point in self.points:
            if point.us_per_qn != previous:
                out.append((point.seconds, point.bpm))
            previous = point.us_per_qn
        return out
