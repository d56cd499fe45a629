"""The one tempo/PPQ path for MIDI takes read from a project: take PPQ <-> project seconds, as REAPER maps them.

A take's PPQ 0 sits at `POSITION - SOFFS / PLAYRATE`; PPQ advance in quarter notes of the project tempo map from
there (ticks per quarter note from the source's `HASDATA`), divided by the play rate. `render-project`, the REAPER
simulator and dataset building from a project use this; the live engine asks REAPER itself
(`MIDI_GetProjTimeFromPPQPos`).
"""

from __future__ import annotations

from dataclasses import dataclass

from readdsp.core.tempo_map import TempoMap


@dataclass(frozen=True)
class TakeTiming:
    tempo: TempoMap  # positions in quarter notes
    position: float  # item start, project seconds
    start_offset: float  # SOFFS, seconds of source skipped
    play_rate: float
    ticks_per_qn: int

    @property
    def take_start(self) -> float:
        return self.position - self.start_offset / self.play_rate

    @property
    def _qn0(self) -> float:
        return self.tempo.to_position(self.take_start)

    def ppq_to_project_seconds(self, ppq: float) -> float:
        qn0 = self._qn0
        return (
            self.take_start
            + (self.tempo.to_seconds(qn0 + ppq / self.ticks_per_qn) - self.tempo.to_seconds(qn0)) / self.play_rate
        )

    def ppq_to_item_seconds(self, ppq: float) -> float:
        return self.ppq_to_project_seconds(ppq) - self.position

    def project_seconds_to_ppq(self, seconds: float) -> float:
        qn0 = self._qn0
        t0 = self.tempo.to_seconds(qn0)
        return (self.tempo.to_position(t0 + (seconds - self.take_start) * self.play_rate) - qn0) * self.ticks_per_qn

    def ppq_to_project_qn(self, ppq: float) -> float:
        return self.tempo.to_position(self.ppq_to_project_seconds(ppq))
