"""Render MIDI items to audio takes: choose instrument/seed, render, fit to the item, write WAVs, add takes.

Tail rule (fade): a take is exactly as long as its item. Audio that rings past the item end (a reverb tail) is
cut with a 20 ms raised-cosine fade-out; lengthen the item before rendering to keep more of the tail.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from readdsp.core.atomic import write_wav
from readdsp.core.errors import ReaDDSPError
from readdsp.core.output_path import safe_file_stem
from readdsp.core.performance import Performance

if TYPE_CHECKING:  # the render API loads torch; item helpers such as `slug` do not need it
    from readdsp.core.render import PerformanceRenderer, RenderResult

FADE_OUT_S = 0.02
TEMP_PREFIX = "readdsp-partial-"
log = logging.getLogger("readdsp.engine")


@dataclass
class RenderJob:
    """One item to render: its performance (seconds from the item start), length, instrument and seed."""

    name: str
    length: float
    performance: Performance
    instrument: str | None
    seed: int


@dataclass
class RenderedTake:
    job: RenderJob
    temp_wav: Path
    label: str  # the instrument(s) the take is named after
    warnings: list[str] = field(default_factory=list)  # the render's own (drum part skipped, notes out of range)


@dataclass
class RenderOutcome:
    takes: list[dict[str, Any]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def slug(text: str) -> str:
    """A take or item name as a file name stem (ASCII, at most 60 characters)."""
    return safe_file_stem(text, "._-", runs=True, strip="._", max_length=60, fallback="item")


def fit_to_length(audio: np.ndarray, n_samples: int, sample_rate: int) -> np.ndarray:
    """Pad with silence or cut to `n_samples`; a cut gets the tail-rule fade-out."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if len(audio) <= n_samples:
        return np.pad(audio, (0, n_samples - len(audio)))
    out = audio[:n_samples].copy()
    n_fade = min(n_samples, max(1, int(round(FADE_OUT_S * sample_rate))))
    out[-n_fade:] *= (0.5 * (1 + np.cos(np.linspace(0.0, np.pi, n_fade)))).astype(np.float32)
    return out


def instrument_label(result: RenderResult) -> str:
    """The instruments a take was rendered with, as the render result reports them ('none' if no part rendered)."""
    return "+".join(sorted(set(result.instruments.values()))) or "none"


def render_job(
    renderer: PerformanceRenderer,
    job: RenderJob,
    sample_rate: int,
    temp_dir: Path,
    progress: Callable[[float, float], None] | None = None,
) -> RenderedTake:
    """Render one job into a temporary WAV in `temp_dir` (moved into place only when the take is added)."""
    result = renderer.render(
        job.performance,
        sample_rate=sample_rate,
        instrument=job.instrument,
        seed=job.seed,
        progress=progress,
        stems=False,  # a take is the mix
    )
    if result.sample_rate != sample_rate:
        raise ReaDDSPError(f"renderer returned {result.sample_rate} Hz audio for a {sample_rate} Hz project")
    audio = fit_to_length(result.mix, int(round(job.length * sample_rate)), sample_rate)
    temp = temp_dir / f"{TEMP_PREFIX}{uuid.uuid4().hex}.wav"
    write_wav(temp, audio, sample_rate)
    return RenderedTake(job, temp, instrument_label(result), list(result.warnings))


def unique_wav_path(folder: Path, name: str, label: str) -> Path:
    base = f"{slug(name)}-{slug(label)}"
    candidate = folder / f"{base}.wav"
    n = 2
    while candidate.exists():
        candidate = folder / f"{base}-{n}.wav"
        n += 1
    return candidate


def place_wavs(rendered: list[RenderedTake], media_folder: Path) -> list[Path]:
    """Move temporary WAVs to their final names in the media folder; on failure, remove what was placed."""
    media_folder.mkdir(parents=True, exist_ok=True)
    placed: list[Path] = []
    try:
        for take in rendered:
            target = unique_wav_path(media_folder, take.job.name, take.label)
            shutil.move(str(take.temp_wav), target)
            placed.append(target)
    except OSError as err:
        remove_files(placed)
        raise ReaDDSPError(f"cannot write the rendered audio ({err})", media_folder) from None
    return placed


def remove_files(paths: list[Path]) -> None:
    for path in paths:
        try:
            Path(path).unlink()
        except FileNotFoundError:
            pass


def clean_temp_dir(temp_dir: Path) -> int:
    """Delete partial renders left by an engine that was killed; returns how many were removed."""
    removed = 0
    if temp_dir.is_dir():
        for path in temp_dir.glob(f"{TEMP_PREFIX}*"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
