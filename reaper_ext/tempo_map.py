"""A project tempo map (constant-tempo segments) converting between seconds and quarter notes."""

from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True)
class TempoMap:
    """Tempo points `(time_s, bpm)` sorted by time, the first at 0 s; each holds until the next."""

    points: tuple[tuple[float, float], ...] = ((0.0, 120.0),)

    @classmethod
    def from_points(cls, points: list[tuple[float, float]], default_bpm: float = 120.0) -> TempoMap:
        cleaned = sorted((max(0.0, float(t)), float(b)) for t, b in points if float(b) > 0)
        if not cleaned or cleaned[0][0] > 0.0:
            cleaned.insert(0, (0.0, cleaned[0][1] if cleaned else float(default_bpm)))
        return cls(tuple(cleaned))

    def _qn_at_points(self) -> list[float]:
        qns = [0.0]
        for (t0, bpm), (t1, _) in zip(self.points, self.points[1:], strict=False):
            qns.append(qns[-1] + (t1 - t0) * bpm / 60.0)
        return qns

    def time_to_qn(self, seconds: float) -> float:
        """Quarter notes elapsed from project start at `seconds` (negative times use the first tempo)."""
        times = [t for t, _ in self.points]
        i = max(0, bisect.bisect_right(times, seconds) - 1)
        t0, bpm = self.points[i]
        return self._qn_at_points()[i] + (seconds - t0) * bpm / 60.0

    def qn_to_time(self, qn: float) -> float:
        """Project seconds at quarter-note position `qn`."""
        qns = self._qn_at_points()
        i = max(0, bisect.bisect_right(qns, qn) - 1)
        t0, bpm = self.points[i]
        return t0 + (qn - qns[i]) * 60.0 / bpm

    def bpm_at(self, seconds: float) -> float:
        times = [t for t, _ in self.points]
        return self.points[max(0, bisect.bisect_right(times, seconds) - 1)][1]
