"""The public render API: a Performance in, expressive audio out (mix, stems, and the expression it used)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from readdsp.core.bundle import Bundle, calibration_gains_db, load_bundle, resolve_bundle
from readdsp.core.control_lanes import ControlLanes
from readdsp.core.curve_overrides import CurveOverrides, apply_curve_overrides
from readdsp.core.errors import ReaDDSPError
from readdsp.core.kernels.warmup import start_kernel_warmup
from readdsp.core.levels import db_to_gain, expression_gain, headroom_gain
from readdsp.core.memory import SOFT_LIMIT_MB, reuse_freed_blocks, trim_heap_above
from readdsp.core.models.midi_ddsp import MidiDDSP
from readdsp.core.models.style_ddsp import StyleDDSP
from readdsp.core.note_frames import FRAME_RATE, n_frames_for
from readdsp.core.performance import Note, Part, Performance, checked_controls
from readdsp.core.programs import INSTRUMENTS, fallback_message, instrument_for_part
from readdsp.core.protocols import InstrumentModel
from readdsp.core.resample import fit_length, resample
from readdsp.core.room import add_room, check_reverb_amount
from readdsp.core.synth.controls import SynthControls
from readdsp.core.voices import assign_voices, voice_notes

Progress = Callable[[float, float], None]
SEGMENT_GAP_S = 0.25  # a rest at least this long starts a new segment
SEGMENT_MAX_S = 8.0  # segments are cut at a note boundary past this length (training used 2-4 s windows)
LEAD_S = 0.05  # frames rendered before a segment's first onset (the model's context for the attack)
LEAD_IN_S = 0.005  # audible lead-in: audio before the first onset is silent up to this, then ramps in
TAIL_S = 0.5  # frames rendered after its last offset, for the release
ROOM_TAIL_S = 2.5  # extra audio kept at the end when a room is added
END_FADE_S = 0.05  # the file's last samples fade out instead of being cut
CC_BLOCK_S = 10.0  # CC11 gain is applied block by block, so a long render needs no second full-length buffer
GENERATING = 2  # batches generated at once (on two threads), ahead of the one being synthesized
SYNTHESIZING = 2  # threads a batch's synthesis is split over
BATCH_FRAMES = 16384  # frames generated together: packed rows need no padding, and this bounds memory


@dataclass
class RenderResult:
    """Audio and what produced it; `performance` carries the expression every note was rendered with."""

    mix: np.ndarray
    stems: Mapping[str, np.ndarray]  # label -> audio, resampled on first read
    sample_rate: int
    performance: Performance
    instruments: dict[str, str] = field(default_factory=dict)  # stem label -> instrument
    warnings: list[str] = field(default_factory=list)


class PerformanceRenderer(Protocol):
    """What code above core needs of a renderer (the REAPER engine, item and project renders): `Renderer` is one."""

    @property
    def instruments(self) -> list[str]: ...

    def check_instrument(self, name: str) -> str: ...

    def render(
        self,
        performance: Performance,
        sample_rate: int = ...,
        instrument: str | None = ...,
        seed: int = ...,
        progress: Progress | None = ...,
        *,
        stems: bool = ...,
    ) -> RenderResult: ...


def split_segments(notes: list[Note]) -> list[list[Note]]:
    """Cut a monophonic voice at rests of SEGMENT_GAP_S or more, and at note boundaries past SEGMENT_MAX_S."""
    segments: list[list[Note]] = []
    for note in notes:
        if segments:
            current = segments[-1]
            gap = note.onset - current[-1].offset
            if gap < SEGMENT_GAP_S and note.offset - current[0].onset <= SEGMENT_MAX_S:
                current.append(note)
                continue
        segments.append([note])
    return segments


class Renderer:
    """Renders Performances with one instrument model (a bundle's, or a ModelSet of several bundles')."""

    def __init__(
        self, model: InstrumentModel, bundle_path: Path | None = None, level_db: dict[str, float] | None = None
    ):
        start_kernel_warmup()  # no-op once the kernels are cached
        self.model = model
        self.bundle_path = bundle_path
        self.level_db = dict(level_db or {})  # instrument -> calibration gain (dB), from the bundle's sidecar

    @classmethod
    def load(cls, name_or_path: str | Path | None = None) -> Renderer:
        """The bundled default model, or a bundle by name or path (the loader dispatches on its model family)."""
        path = resolve_bundle(name_or_path)
        bundle = load_bundle(path)
        return cls(model_for(bundle), path, calibration_gains_db(bundle))

    @property
    def instruments(self) -> list[str]:
        return list(self.model.instruments)

    @property
    def model_sample_rate(self) -> int:
        return self.model.sample_rate

    def check_instrument(self, name: str) -> str:
        """The instrument name, or a one-line error listing the available ones."""
        if name not in self.model.instruments:
            raise ReaDDSPError(f"unknown instrument {name!r}; available: {', '.join(self.model.instruments)}")
        return name

    def instrument_for(self, part: Part, override: str | None = None) -> str | None:
        """Which instrument renders a part: the override, the part's own, else the program mapping."""
        if override:
            return self.check_instrument(override)
        if part.instrument:
            return self.check_instrument(part.instrument)
        return instrument_for_part(part, available=self.model.instruments)

    def fill_expressions(self, plan: RenderPlan) -> None:
        """Give every note of the plan's parts its controls, generating the unset ones for all voices in one batch.

        Voices are generated as the model hears them (each note cut at its voice's next onset); the controls land
        on the part's own notes, found by index, never by matching times or pitches.
        """
        todo = [
            (part_plan, indices)
            for part_plan in plan.parts
            for indices in part_plan.voices
            if any(part_plan.part.notes[i].expression is None for i in indices)
        ]
        if not todo:
            return
        generated = self.model.generate_expressions(
            [voice_notes(part_plan.part, indices) for part_plan, indices in todo],
            [part_plan.instrument for part_plan, _ in todo],
        )
        for (part_plan, indices), rows in zip(todo, generated, strict=True):
            for i, row in zip(indices, rows, strict=True):
                note = part_plan.part.notes[i]
                if note.expression is None:
                    note.expression = checked_controls(row, f"{part_plan.label}: generated expression")

    def segment_jobs(self, plan: RenderPlan, seed: int) -> list[SegmentJob]:
        """Every segment of every voice, as an independent job with its own stable seed."""
        jobs = []
        for p, part_plan in enumerate(plan.parts):
            for v, indices in enumerate(part_plan.voices):
                for seg in split_segments(voice_notes(part_plan.part, indices)):
                    start = max(seg[0].onset - LEAD_S, 0.0)
                    shifted = [Note(n.pitch, n.onset - start, n.offset - start, n.velocity, n.expression) for n in seg]
                    job_seed = segment_seed(seed, p, v, start)
                    jobs.append(
                        SegmentJob(
                            p,
                            part_plan.instrument,
                            start,
                            shifted,
                            n_frames_for(shifted[-1].offset + TAIL_S),
                            job_seed,
                            ControlLanes.of_part(part_plan.part).from_time(start),
                        )
                    )
        return jobs

    def render_jobs(
        self,
        jobs: list[SegmentJob],
        deliver: Callable[[SegmentJob, np.ndarray], None],
        progress: Callable[[int], None] | None = None,
        curves: CurveOverrides | None = None,
        inspect: Callable[[SegmentJob, SynthControls], None] | None = None,
    ) -> None:
        """Generate and synthesize all segments, batched across voices and parts; hand each one's dry audio (at the
        model's rate, starting at `job.start`) to `deliver`. Drawn `curves` (per plan part index) replace the
        generated f0 and loudness over their spans; `inspect` sees each segment's controls before synthesis.

        Two batches are generated at once on their own threads, and a batch is synthesized, in SYNTHESIZING (two)
        runs of about equal frames on as many more, while the next ones are generated: each stage alone leaves a
        core idle for part of its time (the noise filter runs on one thread, the recurrent lanes end unevenly, small
        products do not split), and the last batch's synthesis, which nothing overlaps, takes half as long.
        Rows are independent, so the audio does not depend on this. `deliver`, `progress` and `inspect` run on the
        caller's thread, `deliver` one segment at a time and in job order.
        """
        sr = self.model.sample_rate
        reuse_freed_blocks()

        def synthesize(segments: list[tuple[SegmentJob, SynthControls]]) -> list[np.ndarray]:
            return [
                _gate_lead_in(self.model.synthesize(ctrl, seed=job.seed), job.notes[0].onset, sr)
                for job, ctrl in segments
            ]

        def generate(batch: list[SegmentJob]) -> list[SynthControls]:
            return self.model.generate_controls(
                [j.notes for j in batch],
                [j.n_frames for j in batch],
                [j.instrument for j in batch],
                [j.seed for j in batch],
                lanes=[j.lanes for j in batch] if self.model.uses_lanes else None,
            )

        def finish(runs: list[tuple[list[tuple[SegmentJob, SynthControls]], Future[list[np.ndarray]]]]) -> None:
            """Deliver a batch's synthesized segments in job order (a synthesis error raises here)."""
            for segments, audio in runs:
                for (job, _), segment_audio in zip(segments, audio.result(), strict=True):
                    deliver(job, segment_audio)
            if progress:
                progress(sum(len(segments) for segments, _ in runs))

        batches = list(_batches(jobs, BATCH_FRAMES))
        with (
            ThreadPoolExecutor(max_workers=GENERATING, thread_name_prefix="readdsp-generate") as generators,
            ThreadPoolExecutor(max_workers=SYNTHESIZING, thread_name_prefix="readdsp-synth") as synth_threads,
        ):
            generating: deque[Future[list[SynthControls]]] = deque()
            pending: list[tuple[list[tuple[SegmentJob, SynthControls]], Future[list[np.ndarray]]]] | None = None
            for index, batch in enumerate(batches):
                if index:
                    trim_heap_above(SOFT_LIMIT_MB)
                while len(generating) < GENERATING and index + len(generating) < len(batches):
                    generating.append(generators.submit(generate, batches[index + len(generating)]))
                controls = generating.popleft().result()
                ready = []
                for job, ctrl in zip(batch, controls, strict=True):
                    if curves:
                        ctrl = apply_curve_overrides(ctrl, curves.get(job.part), job.start, FRAME_RATE, sr)
                    if inspect:
                        inspect(job, ctrl)
                    ready.append((job, ctrl))
                if pending is not None:
                    finish(pending)
                pending = [(run, synth_threads.submit(synthesize, run)) for run in _runs(ready, SYNTHESIZING)]
            if pending is not None:
                finish(pending)

    def prepare(self, performance: Performance, instrument: str | None = None) -> RenderPlan:
        """Plan a render once: a copy of `performance`, which parts render with which instrument (warnings for
        skipped parts and notes out of range), their voices, and every note's expression (generated if unset).

        Edit `plan.performance`'s notes (`note.set_controls(...)`) and pass the plan to `render`.
        """
        perf = performance.copy()
        warnings: list[str] = []
        parts: list[_PartPlan] = []
        for index, part in enumerate(perf.parts):
            label = part.name or f"part {index + 1}"
            if part.is_drum:
                warnings.append(f"{label}: drum part skipped (no neural drum instrument)")
                continue
            if not part.notes:
                continue
            name = self.instrument_for(part, instrument)
            if name is None:
                warnings.append(f"{label}: no instrument for program {part.program}; skipped")
                continue
            if not (instrument or part.instrument) and (note := fallback_message(part.program, name)):
                warnings.append(f"{label}: {note}")
            part.instrument = name
            low, high = (INSTRUMENTS[name].low, INSTRUMENTS[name].high) if name in INSTRUMENTS else (0, 127)
            outside = sum(1 for n in part.notes if not low <= n.pitch <= high)
            if outside:
                warnings.append(f"{label}: {outside} note(s) outside the {name}'s range {low}-{high}; rendered anyway")
            parts.append(_PartPlan(label, part, name, assign_voices(part)))
        plan = RenderPlan(perf, parts, warnings)
        self.fill_expressions(plan)
        return plan

    def generate_expression(self, performance: Performance, instrument: str | None = None) -> Performance:
        """A copy of `performance` in which every rendered note carries its 6 controls (generated if unset).

        Edit the copy (`note.set_controls(...)`, `part.set_expression_matrix(...)`) and pass it to `render`, or
        keep the whole plan with `prepare` to render it without planning again.
        """
        return self.prepare(performance, instrument).performance

    def render(
        self,
        performance: Performance | RenderPlan,
        sample_rate: int = 48000,
        instrument: str | None = None,
        seed: int = 0,
        progress: Progress | None = None,
        reverb: float = 0.0,
        curves: CurveOverrides | None = None,
        inspect: Callable[[SegmentJob, SynthControls], None] | None = None,
        *,
        stems: bool = True,
    ) -> RenderResult:
        """Render every non-drum part, dry unless `reverb` (0..1) adds a room; notes keep their expression, missing
        expression is generated. A `RenderPlan` from `prepare` renders as planned (`instrument` is then ignored).
        `curves` are drawn f0/loudness curves per plan part (core.curve_overrides); `inspect` sees every segment's
        synthesis controls (the panel draws them). `stems=False` keeps only the mix (one buffer instead of one per
        part: less memory on long pieces); `result.instruments` still names every part's instrument.

        Levels: each instrument plays at its calibrated level (`core.levels.REFERENCE_LUFS` for a held note at
        velocity 100 and volume 0.5), CC11 scales a part as in General MIDI, and an n-part mix gives each part
        1/sqrt(n) (`headroom_gain`).
        """
        if not 8000 <= sample_rate <= 192000:
            raise ReaDDSPError(f"sample rate {sample_rate} Hz is out of range (8000..192000)")
        reverb = check_reverb_amount(reverb)
        plan = performance if isinstance(performance, RenderPlan) else self.prepare(performance, instrument)
        self.fill_expressions(plan)  # notes whose controls were cleared since the plan was made
        plans = plan.parts
        sr = self.model.sample_rate
        n_samples = self.dry_length(plan, reverb)
        jobs = self.segment_jobs(plan, seed)
        done = 0

        def tick(count: int) -> None:
            nonlocal done
            done += count
            if progress:
                progress(done, len(jobs))

        if stems:
            dry = [np.zeros(n_samples, np.float32) for _ in plans]

            def into_part(job: SegmentJob, audio: np.ndarray) -> None:
                add_at(dry[job.part], audio, job.start, sr)

            self.render_jobs(jobs, into_part, tick, curves, inspect)
            return self.mix_down(plan, dry, sample_rate, reverb, in_place=True)
        # One buffer for the whole mix: each segment gets its part's level and CC11 on the way in (the same products
        # mix_down forms per part), so a long render holds one model-rate buffer instead of one per part.
        mix = np.zeros(n_samples, np.float32)
        gains = [self.part_gain(part_plan, len(plans)) for part_plan in plans]

        def deliver(job: SegmentJob, audio: np.ndarray) -> None:
            audio *= gains[job.part]
            _apply_expression_cc(audio, plans[job.part].part, sr, offset=int(round(job.start * sr)))
            add_at(mix, audio, job.start, sr)

        self.render_jobs(jobs, deliver, tick, curves, inspect)
        return self._result(plan, mix, {}, sample_rate, reverb)

    def mix_down(
        self, plan: RenderPlan, dry: list[np.ndarray], sample_rate: int, reverb: float, in_place: bool = False
    ) -> RenderResult:
        """Each part's dry audio (model rate) at its level, with CC11 and the headroom rule; the mix resampled to
        `sample_rate`, the room added and the end faded. `in_place` lets it scale `dry` itself (saves memory)."""
        sr = self.model.sample_rate
        parts: dict[str, np.ndarray] = {}
        mix = np.zeros(len(dry[0]) if dry else 0, np.float32)
        for part_plan, audio, label in zip(plan.parts, dry, _stem_labels(plan), strict=True):
            audio = audio if in_place else audio.copy()
            audio *= self.part_gain(part_plan, len(plan.parts))
            _apply_expression_cc(audio, part_plan.part, sr)
            parts[label] = audio
            mix += audio
        return self._result(plan, mix, parts, sample_rate, reverb)

    def part_gain(self, part_plan: _PartPlan, n_parts: int) -> float:
        """A part's gain in the mix: its instrument's calibrated level and the headroom rule for `n_parts`."""
        return headroom_gain(n_parts) * db_to_gain(self.level_db.get(part_plan.instrument, 0.0))

    def _result(
        self, plan: RenderPlan, mix: np.ndarray, parts: dict[str, np.ndarray], sample_rate: int, reverb: float
    ) -> RenderResult:
        """The mix (model rate, levels applied; this takes it over) resampled to `sample_rate`, the room added and
        the end faded; `parts` become the stems, resampled when read (none when the render kept no stems)."""
        sr = self.model.sample_rate
        tail_s = TAIL_S + (ROOM_TAIL_S if reverb else 0.0)
        length = int(np.ceil((plan.performance.duration + tail_s) * sample_rate))
        mix = _finish(mix if sr == sample_rate else resample(mix, sr, sample_rate), sample_rate, length, reverb)
        stems = ResampledStems(parts, sr, sample_rate, length, reverb)
        used = dict(zip(_stem_labels(plan), (part_plan.instrument for part_plan in plan.parts), strict=True))
        return RenderResult(mix, stems, sample_rate, plan.performance, used, list(plan.warnings))

    def dry_length(self, plan: RenderPlan, reverb: float) -> int:
        """Samples of each part's dry buffer (model rate): the music, its release and room tail, and 2 s spare."""
        tail_s = TAIL_S + (ROOM_TAIL_S if reverb else 0.0)
        return int(np.ceil((plan.performance.duration + tail_s + 2.0) * self.model.sample_rate))


class ResampledStems(Mapping[str, np.ndarray]):
    """Per-part audio, kept at the model's rate and resampled only when a stem is read (resampling is linear, so
    the mix is resampled once instead of once per part)."""

    def __init__(
        self, parts: dict[str, np.ndarray], source_rate: int, target_rate: int, length: int, reverb: float = 0.0
    ):
        self._parts = parts
        self._rates = (source_rate, target_rate)
        self._length = length
        self._reverb = reverb
        self._done: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._done:
            audio = resample(self._parts[key], *self._rates)
            self._done[key] = _finish(audio, self._rates[1], self._length, self._reverb)
        return self._done[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)


@dataclass
class SegmentJob:
    """One segment of one voice: its notes timed from `start` (s), frames to generate, and its seed."""

    part: int
    instrument: str
    start: float
    notes: list[Note]
    n_frames: int
    seed: int
    lanes: ControlLanes | None = None  # the part's CC and bend lanes seen from `start` (style-DDSP models read them)


@dataclass
class _PartPlan:
    label: str
    part: Part  # the plan's own copy of the part: its notes carry the expression that renders
    instrument: str
    voices: list[list[int]]  # per voice, indices into part.notes (core.voices.assign_voices)


@dataclass
class RenderPlan:
    """A performance made ready to render once: each rendered part's instrument and voices, every note's
    expression filled, and the planning warnings."""

    performance: Performance
    parts: list[_PartPlan]
    warnings: list[str]


def _batches(jobs: list[SegmentJob], max_frames: int) -> Iterator[list[SegmentJob]]:
    """Consecutive jobs in groups of at most `max_frames` frames (a longer job goes alone)."""
    batch: list[SegmentJob] = []
    frames = 0
    for job in jobs:
        if batch and frames + job.n_frames > max_frames:
            yield batch
            batch, frames = [], 0
        batch.append(job)
        frames += job.n_frames
    if batch:
        yield batch


def _runs(segments: list[tuple[SegmentJob, SynthControls]], count: int) -> list[list[tuple[SegmentJob, SynthControls]]]:
    """A batch's segments in at most `count` consecutive runs of about equal frames, none empty: a run ends at
    the first segment that takes the frames so far to its share of the total."""
    total = sum(job.n_frames for job, _ in segments)
    runs: list[list[tuple[SegmentJob, SynthControls]]] = [[]]
    frames = 0
    for index, (job, ctrl) in enumerate(segments):
        runs[-1].append((job, ctrl))
        frames += job.n_frames
        if len(runs) < count and index < len(segments) - 1 and count * frames >= len(runs) * total:
            runs.append([])
    return runs


def _gate_lead_in(audio: np.ndarray, first_onset_s: float, sample_rate: int) -> np.ndarray:
    """Silence what the model sounds before a segment's first onset, but for a LEAD_IN_S raised-cosine ramp, so a
    note starts where its MIDI note starts (the frames before it stay the model's context)."""
    onset = int(round(first_onset_s * sample_rate))
    ramp = int(round(LEAD_IN_S * sample_rate))
    begin = max(onset - ramp, 0)
    audio[:begin] = 0.0
    length = onset - begin
    if length > 0:
        audio[begin:onset] *= np.sin(np.linspace(0.0, np.pi / 2, length, endpoint=False, dtype=np.float32)) ** 2
    return audio


def segment_seed(seed: int, part: int, voice: int, start_s: float) -> int:
    """A segment's seed, from where it sits (its part, voice and start in ms), not its index: an edit that changes
    the segmentation reseeds only the segments it touches."""
    return int(np.random.SeedSequence([seed, part, voice, int(round(start_s * 1000))]).generate_state(1)[0])


def add_at(buffer: np.ndarray, audio: np.ndarray, start_s: float, sample_rate: int, sign: float = 1.0) -> None:
    """Add (or with sign -1 take away) `audio` into `buffer` from `start_s`, cut at the buffer's end."""
    begin = int(round(start_s * sample_rate))
    end = min(begin + len(audio), len(buffer))
    if end > begin:
        buffer[begin:end] += audio[: end - begin] if sign == 1.0 else -audio[: end - begin]


def model_for(bundle: Bundle) -> InstrumentModel:
    """The inference model of a bundle, chosen by its model family; a one-line error for an unknown one."""
    builders: dict[str, Callable[[Bundle], InstrumentModel]] = {
        "midi-ddsp": MidiDDSP.from_bundle,
        "style-ddsp": StyleDDSP.from_bundle,
    }
    if bundle.family not in builders:
        known = ", ".join(builders)
        raise ReaDDSPError(f"unknown model family {bundle.family!r} (this readdsp knows: {known})", bundle.path)
    return builders[bundle.family](bundle)


def _stem_labels(plan: RenderPlan) -> list[str]:
    """Each rendered part's stem label: its own, numbered where two parts share one."""
    labels: list[str] = []
    for part_plan in plan.parts:
        labels.append(part_plan.label if part_plan.label not in labels else f"{part_plan.label} ({len(labels) + 1})")
    return labels


def _apply_expression_cc(audio: np.ndarray, part: Part, sample_rate: int, offset: int = 0) -> None:
    """Scale a part's audio (which starts `offset` samples into the part) in place by its CC11 gain curve, block
    by block."""
    if not part.cc.get(11):
        return
    block = int(CC_BLOCK_S * sample_rate)
    for start in range(0, len(audio), block):
        stop = min(start + block, len(audio))
        gain = expression_gain(part, np.arange(offset + start, offset + stop) / sample_rate)
        if gain is not None:
            audio[start:stop] *= gain


def _finish(audio: np.ndarray, sample_rate: int, length: int, reverb: float) -> np.ndarray:
    """The room (if any), the file's length, and a short fade at its very end instead of a cut."""
    out = fit_length(add_room(audio, sample_rate, reverb), length)
    fade = min(int(END_FADE_S * sample_rate), len(out))
    if fade:
        out[-fade:] *= np.cos(np.linspace(0.0, np.pi / 2, fade, dtype=np.float32)) ** 2
    return out
