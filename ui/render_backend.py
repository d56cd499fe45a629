"""How the panel gets audio: the RenderBackend protocol and its local (in-process Renderer) implementation."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from readdsp.core.curve_overrides import CurveOverrides
from readdsp.core.note_frames import FRAME_RATE
from readdsp.core.performance import Performance
from readdsp.core.render import Renderer, RenderPlan, RenderResult, SegmentJob
from readdsp.core.render_session import RenderSession
from readdsp.core.synth.controls import SynthControls
from readdsp.core.units import amplitude_to_db, hz_to_midi

Progress = Callable[[float, float], None]


@dataclass
class SegmentCurves:
    """The f0 (MIDI pitch) and loudness (harmonic amplitude, dB) one segment rendered with, from `start` (s)."""

    start: float
    f0_midi: np.ndarray
    loudness_db: np.ndarray

    def times(self) -> np.ndarray:
        return self.start + np.arange(len(self.f0_midi)) / FRAME_RATE


@dataclass
class PanelRender:
    """A finished render: the audio, the curves per part index, and how long it took."""

    result: RenderResult
    curves: dict[int, list[SegmentCurves]] = field(default_factory=dict)
    seconds: float = 0.0
    segments_rendered: int = 0  # segments this render generated (the others were kept from the last one)
    segments_total: int = 0  # segments the mix holds


class RenderBackend(Protocol):
    """What the panel needs from whoever renders: local today; the REAPER engine over OSC can implement it later,
    and an incremental (segment-splicing) renderer can replace `render` without the panel changing."""

    def prepare(self, performance: Performance, instrument: str | None) -> RenderPlan: ...

    def render(
        self, plan: RenderPlan, seed: int, curves: CurveOverrides, progress: Progress | None = None
    ) -> PanelRender: ...


class LocalRenderBackend:
    """Renders in this process with one bundle's Renderer (loaded once). Renders are incremental: the backend keeps a
    RenderSession per plan and seed, so an edit re-renders only the segments it touches (core/render_session.py)."""

    def __init__(self, bundle: str | Path | None = None):
        self.renderer = Renderer.load(bundle)
        self._session: RenderSession | None = None
        self._drawn: dict[tuple[int, float, int], SegmentCurves] = {}  # (part, start, seed) -> its curves

    @property
    def instruments(self) -> list[str]:
        return self.renderer.instruments

    def prepare(self, performance: Performance, instrument: str | None) -> RenderPlan:
        return self.renderer.prepare(performance, instrument)

    def render(
        self, plan: RenderPlan, seed: int, curves: CurveOverrides, progress: Progress | None = None
    ) -> PanelRender:
        started = time.perf_counter()
        session = self._session
        if session is None or session.seed != seed:
            session = self._session = RenderSession(self.renderer, plan, seed=seed)
            session.inspect = self._record
            self._drawn.clear()
        # the worker renders a fresh copy of the panel's plan each time: the session compares its segments with the
        # ones it holds (notes, controls, instrument, curves) and renders only those that changed
        session.plan = plan
        session.curves = copy.deepcopy(curves)
        result, stats = session.update(progress)
        drawn: dict[int, list[SegmentCurves]] = {}
        for job in sorted(session.segments, key=lambda j: (j.part, j.start)):
            found = self._drawn.get((job.part, round(job.start, 6), job.seed))
            if found is not None:
                drawn.setdefault(job.part, []).append(found)
        seconds = time.perf_counter() - started
        return PanelRender(result, drawn, seconds, stats.segments_rendered, len(session.segments))

    def _record(self, job: SegmentJob, controls: SynthControls) -> None:
        self._drawn[(job.part, round(job.start, 6), job.seed)] = SegmentCurves(
            job.start,
            hz_to_midi(controls.f0_hz[0].double().numpy()),
            amplitude_to_db(controls.amplitude[0].double().numpy()),
        )
