"""The simulated project's measures (bars): time signatures from the TEMPO line and the tempo markers, in quarter notes.

REAPER keeps a time signature on the `TEMPO bpm num den` line and on a tempo marker of `<TEMPOENVEX` that changes
it: `PT seconds bpm shape timesig ...`, with timesig = numerator + 65536 * denominator (0: no change). A marker
starts a new measure; measures then repeat every 4 * num / den quarter notes, and a measure cut short by the next
marker is a partial measure (REAPER's "allow partial measure"). Measures count from 0 at the project start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rpp import Element

from readdsp.core.tempo_map import TempoMap

TIMESIG_SCALE = 65536


@dataclass(frozen=True)
class Measure:
    index: int  # from 0, as REAPER's TimeMap functions count measures
    qn_start: float
    qn_end: float
    numerator: int
    denominator: int


def time_signatures(root: Element) -> list[tuple[float, int, int]]:
    """(seconds, numerator, denominator): the TEMPO line's at 0 s, then every tempo marker that changes it."""
    line = next((c for c in root.children if isinstance(c, list) and c[:1] == ["TEMPO"]), [])
    out = [(0.0, int(line[2]), int(line[3])) if len(line) > 3 else (0.0, 4, 4)]
    env = next((c for c in root.children if isinstance(c, Element) and c.tag == "TEMPOENVEX"), None)
    for point in env.children if env is not None else []:
        if isinstance(point, list) and point[:1] == ["PT"] and len(point) > 4 and int(point[4]) > 0:
            numerator, denominator = int(point[4]) % TIMESIG_SCALE, int(point[4]) // TIMESIG_SCALE
            if float(point[1]) <= 0.0:
                out[0] = (0.0, numerator, denominator)
            else:
                out.append((float(point[1]), numerator, denominator))
    return sorted(out)


class Measures:
    """The measures of a tempo map with time-signature markers [(seconds, num, den)], the first at 0 s."""

    def __init__(self, tempo: TempoMap, signatures: list[tuple[float, int, int]]):
        self.tempo = tempo
        marks = [(tempo.to_position(s), n, d) for s, n, d in signatures]
        self.spans: list[tuple[float, float, int, int, int]] = []  # qn start, qn end, num, den, first index
        first = 0
        for (qn, numerator, denominator), following in zip(marks, [*marks[1:], (math.inf, 0, 0)], strict=True):
            self.spans.append((qn, following[0], numerator, denominator, first))
            if math.isfinite(following[0]):
                first += math.ceil((following[0] - qn) / (4.0 * numerator / denominator) - 1e-9)

    def _in_span(self, span: tuple[float, float, int, int, int], index: int) -> Measure:
        qn, qn_next, numerator, denominator, first = span
        length = 4.0 * numerator / denominator
        start = qn + (index - first) * length
        return Measure(index, start, min(start + length, qn_next), numerator, denominator)

    def measure(self, index: int) -> Measure:
        """Measure `index` (from 0)."""
        span = next(s for s in reversed(self.spans) if s[4] <= max(index, 0))
        return self._in_span(span, max(index, 0))

    def at_time(self, seconds: float) -> Measure:
        """The measure sounding at `seconds` (the first one before the project start)."""
        qn = self.tempo.to_position(max(seconds, 0.0))
        span = next(s for s in reversed(self.spans) if s[0] <= qn + 1e-9)
        length = 4.0 * span[2] / span[3]
        return self._in_span(span, span[4] + math.floor((qn - span[0]) / length + 1e-9))
