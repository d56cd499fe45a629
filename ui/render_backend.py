"""How the panel gets audio: the RenderBackend protocol and its local (in-process Renderer) implementation."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from readdsp.core.curve_overrides import CurveOverrides, apply_curve_overrides
from readdsp.core.note_frames import FRAME_RATE
from readdsp.core.performance import Performance
from readdsp.core.render import Renderer, RenderPlan, RenderResult
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


class RenderBackend(Protocol):
    """What the panel needs from whoever renders: local today; the REAPER engine over OSC can implement it later,
    and an incremental (segment-splicing) renderer can replace `render` without the panel changing."""

    def prepare(self, performance: Performance, instrument: str | None) -> RenderPlan: ...

    def render(
        self, plan: RenderPlan, seed: int, curves: CurveOverrides, progress: Progress | None = None
    ) -> PanelRender: ...


class _CurveModel:
    """The renderer's model with drawn curves applied between control generation and synthesis, keyed by each
    segment's seed (unique per segment); it also records the curves each segment rendered with."""

    def __init__(self, model: Any, curves: CurveOverrides):
        self._model, self._curves = model, curves
        self.jobs: dict[int, Any] = {}
        self.rendered: dict[int, list[SegmentCurves]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def synthesize(self, controls: Any, seed: int) -> np.ndarray:
        job = self.jobs.get(seed)
        if job is not None:
            controls = apply_curve_overrides(
                controls, self._curves.get(job.part), job.start, FRAME_RATE, self._model.sample_rate
            )
            self.rendered.setdefault(job.part, []).append(
                SegmentCurves(
                    job.start,
                    hz_to_midi(controls.f0_hz[0].double().numpy()),
                    amplitude_to_db(controls.amplitude[0].double().numpy()),
                )
            )
        return self._model.synthesize(controls, seed=seed)


class _CurveRenderer(Renderer):
    """A Renderer whose segments pass through `_CurveModel` (until core.render takes curve overrides itself)."""

    def segment_jobs(self, *args: Any, **kwargs: Any) -> Any:
        jobs = super().segment_jobs(*args, **kwargs)
        self.model.jobs = {job.seed: job for job in jobs}
        return jobs


class LocalRenderBackend:
    """Renders in this process with one bundle's Renderer (loaded once)."""

    def __init__(self, bundle: str | Path | None = None):
        self.renderer = Renderer.load(bundle)

    @property
    def instruments(self) -> list[str]:
        return self.renderer.instruments

    def prepare(self, performance: Performance, instrument: str | None) -> RenderPlan:
        return self.renderer.prepare(performance, instrument)

    def render(
        self, plan: RenderPlan, seed: int, curves: CurveOverrides, progress: Progress | None = None
    ) -> PanelRender:
        started = time.perf_counter()
        model = _CurveModel(self.renderer.model, copy.deepcopy(curves))
        renderer = _CurveRenderer(model, self.renderer.bundle_path, self.renderer.level_db)  # type: ignore[arg-type]
        result = renderer.render(plan, seed=seed, progress=progress)
        return PanelRender(result, model.rendered, time.perf_counter() - started)
