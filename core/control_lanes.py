"""CC and pitch-bend lanes as first-class data: values in force at a time, step curves on a frame grid, edits."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import Part


@dataclass
class ControlLanes:
    """A voice's lanes: `cc` {controller: [(time_s, value 0..127)]} and `pitch_bend` [(time_s, semitones)], sorted."""

    cc: dict[int, list[tuple[float, int]]] = field(default_factory=dict)
    pitch_bend: list[tuple[float, float]] = field(default_factory=list)

    @classmethod
    def of_part(cls, part: Part) -> ControlLanes:
        return cls({k: sorted(v) for k, v in part.cc.items()}, sorted(part.pitch_bend))

    def from_time(self, start_s: float) -> ControlLanes:
        """The lanes seen from `start_s`: times shifted by it, the value in force at it kept at time 0."""
        return ControlLanes({k: _shifted(v, start_s) for k, v in self.cc.items()}, _shifted(self.pitch_bend, start_s))


def _shifted(events: list, start_s: float) -> list:
    times = [t for t, _ in events]
    first = bisect.bisect_right(times, start_s)
    out = [(0.0, events[first - 1][1])] if first else []
    out += [(t - start_s, v) for t, v in events[first:] if t > start_s]
    return out


def step_curve(events: list, n_frames: int, default: float, frame_rate: int = 250) -> np.ndarray:
    """A lane as a step curve on the frame grid: each value held until the next event, `default` before the first."""
    out = np.full(n_frames, default, np.float32)
    for t, value in sorted(events, key=lambda e: e[0]):
        out[min(max(int(np.floor(t * frame_rate + 0.5)), 0), n_frames) :] = value
    return out


def value_at(events: list, time_s: float, default: float) -> float:
    """The value in force at `time_s` (the last event at or before it), else `default`."""
    times = [t for t, _ in events]
    i = bisect.bisect_right(times, time_s)
    return float(events[i - 1][1]) if i else float(default)


def set_cc(part: Part, controller: int, time_s: float, value: int) -> None:
    """Add (or replace at the same time) one CC event on a part, keeping the lane sorted; values checked."""
    if not 0 <= int(controller) <= 127 or not 0 <= int(value) <= 127:
        raise ReaDDSPError(f"CC{controller} = {value}: controller and value must lie in 0..127")
    if not np.isfinite(time_s) or time_s < 0:
        raise ReaDDSPError(f"CC{controller} event time {time_s!r} must be a finite time >= 0")
    lane = [e for e in part.cc.get(int(controller), []) if abs(e[0] - time_s) > 1e-9]
    bisect.insort(lane, (float(time_s), int(value)))
    part.cc[int(controller)] = lane
