"""The public render API: a Performance in, expressive audio out (mix, stems, and the expression it used)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from readdsp.core.bundle import Bundle, calibration_gains_db, load_bundle, resolve_bundle
from readdsp.core.errors import ReaDDSPError
from readdsp.core.levels import db_to_gain, expression_gain, headroom_gain
from readdsp.core.memory import SOFT_LIMIT_MB, trim_heap_above
from readdsp.core.control_lanes import ControlLanes
from readdsp.core.models.midi_ddsp import MidiDDSP
from readdsp.core.models.style_ddsp import StyleDDSP
from readdsp.core.note_frames import n_frames_for
from readdsp.core.performance import Note, Part, Performance
from readdsp.core.programs import INSTRUMENTS, fallback_message, instrument_for_part
from readdsp.core.room import add_room, check_reverb_amount
from readdsp.core.voices import split_monophonic

log = logging.getLogger(__name__)

Progress = Callable[[float, float], None]
SEGMENT_GAP_S = 0.25  # a rest at least this long starts a new segment
SEGMENT_MAX_S = 8.0  # segments are cut at a note boundary past this length (training used 2-4 s windows)
LEAD_S = 0.05  # frames rendered before a segment's first onset
TAIL_S = 0.5  # frames rendered after its last offset, for the release
ROOM_TAIL_S = 2.5  # extra audio kept at the end when a room is added
END_FADE_S = 0.05  # the file's last samples fade out instead of being cut
CC_BLOCK_S = 10.0  # CC11 gain is applied block by block, so a long render needs no second full-length buffer
BATCH_FRAMES = 32768  # frames generated together: packed rows need no padding, and this bounds memory


@dataclass
class RenderResult:
    """Audio and what produced it; `performance` carries the expression every note was rendered with."""

    mix: np.ndarray
    stems: Mapping[str, np.ndarray]  # label -> audio, resampled on first read
    sample_rate: int
    performance: Performance
    instruments: dict[str, str] = field(default_factory=dict)  # stem label -> instrument
    warnings: list[str] = field(default_factory=list)


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


def _resample(audio: np.ndarray, source_rate: int, target_rate: int, block_s: float = 30.0) -> np.ndarray:
    """Polyphase resampling in float32, block by block (with overlap) so long renders need no float64 copy."""
    if source_rate == target_rate:
        return audio.astype(np.float32)
    g = gcd(source_rate, target_rate)
    up, down = target_rate // g, source_rate // g
    block = int(block_s * source_rate) // down * down
    pad = 64 * down  # samples of context on each side of a block: longer than the filter's half-length
    out = np.empty(int(np.ceil(len(audio) * up / down)), np.float32)
    for start in range(0, len(audio), block):
        lo, hi = max(start - pad, 0), min(start + block + pad, len(audio))
        piece = resample_poly(audio[lo:hi], up, down)
        first = (start - lo) * up // down
        begin = start * up // down
        count = min(block * up // down, len(out) - begin)
        out[begin : begin + count] = piece[first : first + count]
    return out


class Renderer:
    """Loads one MIDI-DDSP bundle and renders Performances with it."""

    def __init__(self, model: MidiDDSP, bundle_path: Path | None = None, level_db: dict[str, float] | None = None):
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

    def fill_expressions(self, voices: list[Part], instruments: list[str]) -> None:
        """Give every note of these monophonic voices its controls, generating the unset ones in one batch."""
        pairs = zip(voices, instruments, strict=True)
        todo = [(voice, name) for voice, name in pairs if any(n.expression is None for n in voice.notes)]
        if not todo:
            return
        generated = self.model.generate_expressions([v.notes for v, _ in todo], [name for _, name in todo])
        for (voice, _), rows in zip(todo, generated, strict=True):
            for note, row in zip(voice.notes, rows, strict=True):
                if note.expression is None:
                    note.expression = np.clip(row, 0.0, 1.0)

    def _fill_plans(self, plans: list[_PartPlan]) -> None:
        """Generate missing expression for every voice, and copy it back onto the parts' notes."""
        self.fill_expressions(
            [voice for plan in plans for voice in plan.voices],
            [plan.instrument for plan in plans for _ in plan.voices],
        )
        for plan in plans:
            _copy_expression_back(plan.part, plan.voices)

    def segment_jobs(self, plans: list[_PartPlan], seed: int) -> list[_SegmentJob]:
        """Every segment of every voice, as an independent job with its own stable seed."""
        jobs = []
        for p, plan in enumerate(plans):
            for v, voice in enumerate(plan.voices):
                for s, seg in enumerate(split_segments(voice.notes)):
                    start = max(seg[0].onset - LEAD_S, 0.0)
                    shifted = [Note(n.pitch, n.onset - start, n.offset - start, n.velocity, n.expression) for n in seg]
                    job_seed = int(np.random.SeedSequence([seed, p, v, s]).generate_state(1)[0])
                    jobs.append(
                        _SegmentJob(
                            p,
                            plan.instrument,
                            start,
                            shifted,
                            n_frames_for(shifted[-1].offset + TAIL_S),
                            job_seed,
                            ControlLanes.of_part(voice).from_time(start),
                        )
                    )
        return jobs

    def render_jobs(self, jobs: list[_SegmentJob], dry: list[np.ndarray], progress=None) -> None:
        """Generate and synthesize all segments, batched across voices and parts; add into `dry`."""
        sr = self.model.sample_rate
        for index, batch in enumerate(_batches(jobs, BATCH_FRAMES)):
            if index:
                trim_heap_above(SOFT_LIMIT_MB)
            lanes = {"lanes": [j.lanes for j in batch]} if getattr(self.model, "uses_lanes", False) else {}
            controls = self.model.generate_controls(
                [j.notes for j in batch],
                [j.n_frames for j in batch],
                [j.instrument for j in batch],
                [j.seed for j in batch],
                **lanes,
            )
            for job, ctrl in zip(batch, controls, strict=True):
                audio = self.model.synthesize(ctrl, seed=job.seed)
                buffer = dry[job.part]
                begin = int(round(job.start * sr))
                end = min(begin + len(audio), len(buffer))
                buffer[begin:end] += audio[: end - begin]
            if progress:
                progress(len(batch))

    def plan(self, performance: Performance, instrument: str | None = None) -> tuple[list[_PartPlan], list[str]]:
        """Which parts render with which instrument, split into voices; warnings for skipped parts and range."""
        warnings: list[str] = []
        plans: list[_PartPlan] = []
        for index, part in enumerate(performance.parts):
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
            voices = split_monophonic(part)
            for voice in voices:
                voice.notes.sort(key=lambda n: n.onset)
            plans.append(_PartPlan(label, part, name, voices))
        return plans, warnings

    def generate_expression(self, performance: Performance, instrument: str | None = None) -> Performance:
        """A copy of `performance` in which every rendered note carries its 6 controls (generated if unset).

        Edit the copy (`note.set_controls(...)`, `part.set_expression_matrix(...)`) and pass it to `render`.
        """
        perf = performance.copy()
        plans, _ = self.plan(perf, instrument)
        self._fill_plans(plans)
        return perf

    def render(
        self,
        performance: Performance,
        sample_rate: int = 48000,
        instrument: str | None = None,
        seed: int = 0,
        progress: Progress | None = None,
        reverb: float = 0.0,
    ) -> RenderResult:
        """Render every non-drum part, dry unless `reverb` (0..1) adds a room; notes keep their expression, missing
        expression is generated.

        Levels: each instrument plays at its calibrated level (`core.levels.REFERENCE_LUFS` for a held note at
        velocity 100 and volume 0.5), CC11 scales a part as in General MIDI, and an n-part mix gives each part
        1/sqrt(n) (`headroom_gain`).
        """
        if not 8000 <= sample_rate <= 192000:
            raise ReaDDSPError(f"sample rate {sample_rate} Hz is out of range (8000..192000)")
        reverb = check_reverb_amount(reverb)
        perf = performance.copy()
        sr = self.model.sample_rate
        tail_s = TAIL_S + (ROOM_TAIL_S if reverb else 0.0)
        n_samples = int(np.ceil((perf.duration + tail_s + 2.0) * sr))
        plans, warnings = self.plan(perf, instrument)
        self._fill_plans(plans)
        jobs = self.segment_jobs(plans, seed)
        done = 0

        def tick(count: int) -> None:
            nonlocal done
            done += count
            if progress:
                progress(done, len(jobs))

        dry = [np.zeros(n_samples, np.float32) for _ in plans]
        self.render_jobs(jobs, dry, tick)
        parts: dict[str, np.ndarray] = {}
        used: dict[str, str] = {}
        headroom = headroom_gain(len(plans))
        for plan, audio in zip(plans, dry, strict=True):
            audio *= headroom * db_to_gain(self.level_db.get(plan.instrument, 0.0))
            _apply_expression_cc(audio, plan.part, sr)
            key = plan.label if plan.label not in parts else f"{plan.label} ({len(parts) + 1})"
            parts[key] = audio
            used[key] = plan.instrument
        del dry
        for message in warnings:
            log.warning(message)
        length = int(np.ceil((perf.duration + tail_s) * sample_rate))
        mix = sum(parts.values(), np.zeros(n_samples, np.float32))
        mix = _finish(_resample(mix, sr, sample_rate), sample_rate, length, reverb)
        stems = ResampledStems(parts, sr, sample_rate, length, reverb)
        return RenderResult(mix, stems, sample_rate, perf, used, warnings)


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
            audio = _resample(self._parts[key], *self._rates)
            self._done[key] = _finish(audio, self._rates[1], self._length, self._reverb)
        return self._done[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)


@dataclass
class _SegmentJob:
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
    part: Part
    instrument: str
    voices: list[Part]


def _batches(jobs: list[_SegmentJob], max_frames: int) -> Iterator[list[_SegmentJob]]:
    """Consecutive jobs in groups of at most `max_frames` frames (a longer job goes alone)."""
    batch: list[_SegmentJob] = []
    frames = 0
    for job in jobs:
        if batch and frames + job.n_frames > max_frames:
            yield batch
            batch, frames = [], 0
        batch.append(job)
        frames += job.n_frames
    if batch:
        yield batch


def _copy_expression_back(part: Part, voices: list[Part]) -> None:
    """Voices hold copies of the part's notes: copy their controls back by (onset, pitch)."""
    by_key = {(round(n.onset, 6), n.pitch): n.expression for v in voices for n in v.notes}
    for note in part.notes:
        note.expression = by_key.get((round(note.onset, 6), note.pitch), note.expression)


def model_for(bundle: Bundle) -> MidiDDSP | StyleDDSP:
    """The inference model of a bundle, chosen by its model family; a one-line error for an unknown one."""
    builders = {"midi-ddsp": MidiDDSP.from_bundle, "style-ddsp": StyleDDSP.from_bundle}
    if bundle.family not in builders:
        known = ", ".join(builders)
        raise ReaDDSPError(f"unknown model family {bundle.family!r} (this readdsp knows: {known})", bundle.path)
    return builders[bundle.family](bundle)


def _apply_expression_cc(audio: np.ndarray, part: Part, sample_rate: int) -> None:
    """Scale a part's audio in place by its CC11 gain curve, block by block."""
    if not part.cc.get(11):
        return
    block = int(CC_BLOCK_S * sample_rate)
    for start in range(0, len(audio), block):
        stop = min(start + block, len(audio))
        gain = expression_gain(part, np.arange(start, stop) / sample_rate)
        if gain is not None:
            audio[start:stop] *= gain


def _finish(audio: np.ndarray, sample_rate: int, length: int, reverb: float) -> np.ndarray:
    """The room (if any), the file's length, and a short fade at its very end instead of a cut."""
    out = _fit_length(add_room(audio, sample_rate, reverb), length)
    fade = min(int(END_FADE_S * sample_rate), len(out))
    if fade:
        out[-fade:] *= np.cos(np.linspace(0.0, np.pi / 2, fade, dtype=np.float32)) ** 2
    return out


def _fit_length(audio: np.ndarray, length: int) -> np.ndarray:
    """Cut to `length`, or pad with zeros up to it."""
    return audio[:length] if len(audio) >= length else np.pad(audio, (0, length - len(audio)))
