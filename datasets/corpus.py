"""Render a training corpus: real note lines, performed expressively with FluidSynth, cached with features."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from readdsp.core.errors import ReaDDSPError
from readdsp.core.programs import INSTRUMENTS, Instrument
from readdsp.datasets.cache import DEFAULT_SPLIT_FRACTIONS, DatasetWriter, split_for_piece
from readdsp.datasets.example_features import compute_features
from readdsp.datasets.expressive_midi import PerformedLine, perform_line
from readdsp.datasets.fluidsynth import DEFAULT_SOUNDFONT, render_midi, resolve_soundfont
from readdsp.datasets.note_sources import (
    SOURCES,
    SourceLine,
    bach_pieces,
    folk_pieces,
    jazz_pieces,
    long_tone_pieces,
)

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_RATE = 24000
DEFAULT_INSTRUMENTS = ("violin", "cello", "flute", "clarinet", "trumpet", "saxophone")
#: Audio kept after the last note-off, for the release (FluidSynth itself adds about 2.6 s).
RELEASE_SECONDS = 1.0
#: At most this many chunks from one jazz solo per instrument, so no single solo dominates.
MAX_CHUNKS_PER_PIECE = 2
#: Below this RMS a render counts as silent (a soundfont without the program, for instance).
SILENCE_RMS = 1e-4
#: Sources that belong to some instruments' repertoire only: the Weimar Jazz DB solos are nearly all saxophone
#: and trumpet solos. Sources not named here go to every instrument.
SOURCE_INSTRUMENTS: dict[str, tuple[str, ...]] = {"jazz": ("trumpet", "saxophone")}
#: The sources a corpus draws on unless told: the bundled model's (long tones are a choice, docs/training.md).
DEFAULT_SOURCES = ("bach", "folk", "jazz")
#: A source's share of an instrument's minutes against a music source's 1: long tones are practice, not repertoire.
SOURCE_WEIGHTS: dict[str, float] = {"longtones": 0.75}


@dataclass
class CorpusSettings:
    """Everything that determines a rendered corpus (stored in the manifest's `settings`)."""

    instruments: tuple[str, ...] = DEFAULT_INSTRUMENTS
    sample_rate: int = DEFAULT_SAMPLE_RATE
    soundfont: str = DEFAULT_SOUNDFONT
    minutes_per_instrument: float = 7.0
    sources: tuple[str, ...] = DEFAULT_SOURCES
    jazz_zip: str | None = None
    seed: int = 0
    jobs: int = 1
    extra: dict = field(default_factory=dict)


def default_jazz_zip() -> Path | None:
    """The Weimar Jazz DB solo zip in the developers' shared data folder, if present."""
    base = os.environ.get("READDSP_SHARED_DATA")
    root = Path(base) if base else Path(__file__).resolve().parents[1] / "../shared/data"
    path = root / "performance" / "wjazzd" / "score_csv.zip"
    return path.resolve() if path.is_file() else None


def sources_for(settings: CorpusSettings, instrument: str) -> tuple[str, ...]:
    """The settings' sources that are part of this instrument's repertoire (`SOURCE_INSTRUMENTS`)."""
    return tuple(s for s in settings.sources if instrument in SOURCE_INSTRUMENTS.get(s, (instrument,)))


def _piece_streams(settings: CorpusSettings, instrument: str, seed: int) -> dict[str, Iterator[list[SourceLine]]]:
    streams: dict[str, Iterator[list[SourceLine]]] = {}
    for source in sources_for(settings, instrument):
        if source == "bach":
            streams[source] = bach_pieces(seed)
        elif source == "folk":
            streams[source] = folk_pieces(seed)
        elif source == "jazz":
            zip_path = settings.jazz_zip or default_jazz_zip()
            if zip_path is None or not Path(zip_path).is_file():
                log.warning("jazz source skipped: no Weimar Jazz DB zip (pass --jazz-zip)")
                continue
            streams[source] = jazz_pieces(zip_path, seed)
        elif source == "longtones":
            streams[source] = long_tone_pieces(seed)
        else:
            raise ReaDDSPError(f"unknown source {source!r}; expected some of {', '.join(SOURCES)}")
    if not streams:
        raise ReaDDSPError(f"no note source is available for {instrument}")
    return streams


def _pick_voice(lines: list[SourceLine], instrument: Instrument, rng: np.random.Generator) -> SourceLine:
    """Of a piece's voices, one whose register suits the instrument (one of the two closest, at random)."""
    centre = (instrument.low + instrument.high) / 2
    ranked = sorted(lines, key=lambda line: abs(float(np.median(line.pitches)) - centre))
    return ranked[int(rng.integers(min(2, len(ranked))))]


def plan_instrument(settings: CorpusSettings, instrument: Instrument, index: int) -> list[PerformedLine]:
    """Performed chunks for one instrument, its sources sharing each split's minutes by their `SOURCE_WEIGHTS`.

    Each split gets its share of the minutes (80/10/10), and a piece's split is fixed by its id, so no piece spans
    two splits. Every source holds its next piece whose split still has room; of those, the piece whose source
    has the fewest seconds in that split, over its weight, goes next. So a source of short, dense pieces (jazz
    solos) gets the same audio time as one of long pieces, in every split.
    """
    seed = settings.seed * 1000 + index
    rng = np.random.default_rng(seed)
    streams = _piece_streams(settings, instrument.name, seed)
    target = settings.minutes_per_instrument * 60.0
    quota = {split: share * target for split, share in DEFAULT_SPLIT_FRACTIONS.items()}
    filled = dict.fromkeys(quota, 0.0)
    seconds: defaultdict[tuple[str, str], float] = defaultdict(float)  # (source, split) -> seconds
    pending: dict[str, tuple[list[SourceLine], str]] = {}  # source -> (its next piece, that piece's split)
    chunks: list[PerformedLine] = []

    def has_room(split: str) -> bool:
        return filled[split] < quota[split]

    while any(has_room(split) for split in quota):
        for source in list(streams):
            while source not in pending or not has_room(pending[source][1]):
                piece = next(streams[source], None)
                if piece is None:
                    del streams[source]
                    pending.pop(source, None)
                    break
                pending[source] = (piece, split_for_piece(piece[0].piece_id))
        if not pending:
            break
        source = min(pending, key=lambda s: seconds[s, pending[s][1]] / SOURCE_WEIGHTS.get(s, 1.0))
        piece, split = pending.pop(source)
        performed = perform_line(
            _pick_voice(piece, instrument, rng), instrument.program, instrument.low, instrument.high, rng
        )
        for chunk in performed[:MAX_CHUNKS_PER_PIECE]:
            if not has_room(split):
                break
            chunks.append(chunk)
            filled[split] += chunk.midi_seconds
            seconds[source, split] += chunk.midi_seconds
    return chunks


def render_chunk(chunk: PerformedLine, soundfont: Path, sample_rate: int) -> np.ndarray:
    """FluidSynth audio for one performed chunk, cut to the last note-off plus the release time."""
    with tempfile.TemporaryDirectory(prefix="readdsp-corpus-") as tmp:
        midi_path = Path(tmp) / f"{chunk.name}.mid"
        chunk.midi.save(midi_path)
        audio = render_midi(midi_path, soundfont, sample_rate, chunk.midi_seconds)
    audio = audio[: int((chunk.notes[-1, 2] + RELEASE_SECONDS) * sample_rate)]
    if float(np.sqrt(np.mean(audio**2))) < SILENCE_RMS:
        raise ReaDDSPError(f"FluidSynth rendered silence for {chunk.name} (does the soundfont have the program?)")
    return audio


def render_corpus(out_dir: str | Path, settings: CorpusSettings, overwrite: bool = False) -> dict:
    """Render the corpus into `out_dir` (atomically) and return a summary dict."""
    unknown = [name for name in settings.instruments if name not in INSTRUMENTS]
    if unknown:
        raise ReaDDSPError(f"unknown instrument {unknown[0]!r}; choose from {', '.join(INSTRUMENTS)}")
    soundfont = resolve_soundfont(settings.soundfont)
    manifest_settings = {
        "command": "render-corpus",
        "soundfont": str(soundfont),
        "minutes_per_instrument": settings.minutes_per_instrument,
        "sources": list(settings.sources),
        "seed": settings.seed,
        **settings.extra,
    }
    # Built first so a bad output folder or sample rate fails before any work.
    writer = DatasetWriter(out_dir, settings.sample_rate, list(settings.instruments), overwrite, manifest_settings)
    started = time.monotonic()
    jobs: list[tuple[str, PerformedLine]] = []
    for index, name in enumerate(settings.instruments):
        jobs += [(name, chunk) for chunk in plan_instrument(settings, INSTRUMENTS[name], index)]

    def work(job: tuple[str, PerformedLine]):
        name, chunk = job
        return job, compute_features(render_chunk(chunk, soundfont, settings.sample_rate), settings.sample_rate)

    seconds = dict.fromkeys(settings.instruments, 0.0)
    with writer:
        with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
            futures = [pool.submit(work, job) for job in jobs]
            try:
                for future in tqdm(as_completed(futures), total=len(futures), desc="render-corpus", unit="line"):
                    (name, chunk), features = future.result()
                    writer.add(
                        f"{name}-{chunk.source}-{chunk.name}",
                        features.audio,
                        features.f0_hz,
                        features.f0_confidence,
                        features.loudness_db,
                        chunk.notes,
                        name,
                        chunk.piece_id,
                        chunk.source,
                    )
                    seconds[name] += len(features.audio) / settings.sample_rate
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        writer.entries.sort(key=lambda e: e["id"])
    return {
        "examples": len(jobs),
        "seconds_per_instrument": seconds,
        "wall_seconds": time.monotonic() - started,
    }
