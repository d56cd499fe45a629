"""A render kept for editing: every segment's dry audio, so an edit re-renders only the segments it touches.

The render cuts each voice into independent segments (at rests of 0.25 s or more, and at note boundaries past
8 s), each generated with a seed from its position (`render.segment_seed`). A segment is known by what it renders:
its part, instrument, start, seed and notes with their controls. After an edit the session plans the segments
again, takes away the audio of those that changed, renders the new ones in one batch and adds them in. Levels,
CC11, the headroom rule, resampling and the room are linear, so mixing the edited dry buffers down again gives the
full render's result; a segment generated alone can differ from the same segment generated inside a full batch by
float rounding in the compiled loops (measured by tests/test_render_session.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from readdsp.core.curve_overrides import CurveOverrides, PartCurves
from readdsp.core.errors import ReaDDSPError
from readdsp.core.note_frames import FRAME_RATE
from readdsp.core.render import Progress, Renderer, RenderPlan, RenderResult, SegmentJob, add_at
from readdsp.core.room import check_reverb_amount
from readdsp.core.synth.controls import SynthControls

SegmentKey = tuple


@dataclass
class EditStats:
    """What an update re-rendered."""

    segments_rendered: int
    segments_removed: int
    seconds: float


def curve_signature(curves: PartCurves | None, job: SegmentJob) -> tuple:
    """The drawn curves of the job's part that overlap the segment, as comparable bytes."""
    if not curves:
        return ()
    end = job.start + job.n_frames / FRAME_RATE
    return tuple(
        (kind, curve.times.tobytes(), curve.values.tobytes())
        for kind, group in (("f0", curves.f0_midi), ("loudness", curves.loudness_db))
        for curve in group
        if curve.times[0] <= end and curve.times[-1] >= job.start
    )


def segment_key(job: SegmentJob, curves: CurveOverrides | None = None) -> SegmentKey:
    """Everything that decides a segment's audio, drawn curves over it included."""
    notes = tuple(
        (
            n.pitch,
            round(n.onset, 6),
            round(n.offset, 6),
            n.velocity,
            None if n.expression is None else tuple(np.round(n.expression, 6)),
        )
        for n in job.notes
    )
    drawn = curve_signature((curves or {}).get(job.part), job)
    return (job.part, job.instrument, round(job.start, 6), job.n_frames, job.seed, notes, drawn)


class RenderSession:
    """Render a plan once, then re-render only what each edit of `plan.performance` touches (`update`)."""

    def __init__(
        self, renderer: Renderer, plan: RenderPlan, sample_rate: int = 48000, seed: int = 0, reverb: float = 0.0
    ):
        if not 8000 <= sample_rate <= 192000:
            raise ReaDDSPError(f"sample rate {sample_rate} Hz is out of range (8000..192000)")
        self.renderer = renderer
        self.plan = plan
        self.sample_rate = sample_rate
        self.seed = seed
        self.reverb = check_reverb_amount(reverb)
        self.curves: CurveOverrides = {}  # drawn f0/loudness per plan part; edit it, then `update`
        self.inspect: Callable[[SegmentJob, SynthControls], None] | None = None  # sees each re-rendered segment
        self._segments: dict[SegmentKey, tuple[SegmentJob, np.ndarray]] = {}
        self._dry: list[np.ndarray] = []
        self.result: RenderResult | None = None

    @property
    def segments(self) -> list[SegmentJob]:
        """The segments the current mix holds."""
        return [job for job, _ in self._segments.values()]

    def render(self, progress: Progress | None = None) -> RenderResult:
        """The whole plan, keeping every segment's dry audio."""
        self._segments.clear()
        self._dry = []
        self.result, _ = self._update(progress)
        return self.result

    def update(self, progress: Progress | None = None) -> tuple[RenderResult, EditStats]:
        """Re-render after edits to `plan.performance`'s notes (controls, timing, pitch) or to `curves`: only the
        segments that changed."""
        if self.result is None:  # the first update is the whole render, and its stats say so
            self._segments.clear()
            self._dry = []
        result, stats = self._update(progress)
        self.result = result
        return result, stats

    def _update(self, progress: Progress | None = None) -> tuple[RenderResult, EditStats]:
        started = time.perf_counter()
        renderer, plan = self.renderer, self.plan
        renderer.fill_expressions(plan)
        sr = renderer.model.sample_rate
        length = renderer.dry_length(plan, self.reverb)
        if len(self._dry) != len(plan.parts) or any(len(d) < length for d in self._dry):
            self._resize(len(plan.parts), length, sr)
        wanted = {segment_key(job, self.curves): job for job in renderer.segment_jobs(plan, self.seed)}
        stale = [key for key in self._segments if key not in wanted]
        for key in stale:
            job, audio = self._segments.pop(key)
            add_at(self._dry[job.part], audio, job.start, sr, sign=-1.0)
        todo = [job for key, job in wanted.items() if key not in self._segments]

        def keep(job: SegmentJob, audio: np.ndarray) -> None:
            self._segments[segment_key(job, self.curves)] = (job, audio)
            add_at(self._dry[job.part], audio, job.start, sr)

        done = 0

        def tick(count: int) -> None:
            nonlocal done
            done += count
            if progress:
                progress(done, len(todo))

        renderer.render_jobs(todo, keep, tick, curves=self.curves, inspect=self.inspect)
        result = renderer.mix_down(plan, [d[:length] for d in self._dry], self.sample_rate, self.reverb)
        return result, EditStats(len(todo), len(stale), time.perf_counter() - started)

    def _resize(self, n_parts: int, length: int, sr: int) -> None:
        """Dry buffers for the plan's parts, rebuilt from the kept segments (parts or length changed)."""
        self._dry = [np.zeros(length, np.float32) for _ in range(n_parts)]
        for key, (job, audio) in list(self._segments.items()):
            if job.part < n_parts:
                add_at(self._dry[job.part], audio, job.start, sr)
            else:
                del self._segments[key]
