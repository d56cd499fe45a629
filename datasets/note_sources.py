"""Monophonic note lines: music21 Bach chorales, Essen folk songs, Weimar Jazz DB solos, and long-tone exercises."""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from readdsp.core.errors import ReaDDSPError
from readdsp.core.output_path import safe_file_stem

log = logging.getLogger(__name__)

SOURCES = ("bach", "folk", "jazz", "longtones")
#: A long-tone exercise: held notes (seconds, log-uniform) apart by rests, over a span that `fit_range` folds onto
#: the instrument's whole range. The music sources hold few such notes (2% of corpus v12's notes last 1.5 s or
#: more), and no lone ones, so a generator learned from them alone drew a lone long note as a short one.
LONG_TONE_SECONDS = (1.0, 6.0)
LONG_TONE_REST_SECONDS = (0.4, 1.5)
LONG_TONE_SPAN = 48  # semitones drawn from; wider than any range, so every register is folded in
LONG_TONE_NOTES = (8, 16)
#: Shortest line worth rendering (notes) and the longest a single line may run (beats/seconds) before cutting.
MIN_NOTES = 8


@dataclass
class SourceLine:
    """One monophonic line in score time: `starts`/`durations` in beats (seconds when `performed`)."""

    piece_id: str  # lines of one piece share it, so they land in the same split
    source: str  # "bach", "folk" or "jazz"
    name: str  # a readable, filename-safe label
    pitches: np.ndarray  # int MIDI pitches
    starts: np.ndarray  # float, beats (or seconds)
    durations: np.ndarray  # float, beats (or seconds)
    fermatas: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # per note
    performed: bool = False  # True: times are already human seconds (jazz); keep them, only stretch a little

    def __post_init__(self) -> None:
        if len(self.fermatas) != len(self.pitches):
            self.fermatas = np.zeros(len(self.pitches), bool)


def _safe(text: str) -> str:
    return safe_file_stem(text, "", runs=True, strip="_", max_length=60, fallback="line")


MISSING_MUSIC21 = "the corpus's note sources need music21: pip install 'readdsp[train]'"


def _music21():
    """The music21 package (a training-only dependency), or a one-line error saying how to install it."""
    try:
        import music21
    except ImportError as err:
        raise ReaDDSPError(MISSING_MUSIC21) from err
    return music21


def _line_from_music21_part(part, piece_id: str, source: str, name: str) -> SourceLine | None:
    """The part's notes (ties merged, chords reduced to their top note, rests dropped) as a SourceLine."""
    expressions = _music21().expressions

    pitches, starts, durations, fermatas = [], [], [], []
    for element in part.stripTies().flatten().notes:
        duration = float(element.quarterLength)
        if duration <= 0:  # grace notes
            continue
        pitch = max(p.midi for p in element.pitches) if element.isChord else element.pitch.midi
        if starts and float(element.offset) < starts[-1] + durations[-1] - 1e-6:
            continue  # a second voice inside the part: keep the line monophonic
        pitches.append(int(pitch))
        starts.append(float(element.offset))
        durations.append(duration)
        fermatas.append(any(isinstance(e, expressions.Fermata) for e in element.expressions))
    if len(pitches) < MIN_NOTES:
        return None
    return SourceLine(
        piece_id,
        source,
        _safe(name),
        np.array(pitches),
        np.array(starts),
        np.array(durations),
        np.array(fermatas),
    )


def bach_pieces(seed: int = 0) -> Iterator[list[SourceLine]]:
    """The Riemenschneider chorales (music21 corpus, each file once) in seeded order, each as its SATB voice lines."""
    corpus = _music21().corpus

    # The collection prints 21 chorales twice (371 numbers, 350 files): each file is one piece.
    names = list(dict.fromkeys(corpus.chorales.Iterator(numberingSystem="riemenschneider", returnType="filename")))
    for index in np.random.default_rng(seed).permutation(len(names)):
        name = names[index]
        try:
            score = corpus.parse(name)
        except Exception as err:  # noqa: BLE001 - a broken corpus file is skipped, not fatal
            log.debug("skipping chorale %s: %s", name, err)
            continue
        piece_id = f"bach:{name}"
        lines = [
            _line_from_music21_part(part, piece_id, "bach", f"{name}_{part.partName or part.id}")
            for part in score.parts
        ]
        lines = [line for line in lines if line is not None]
        if lines:
            yield lines


def _abc_tune_numbers(path: Path) -> list[int]:
    text = path.read_text(encoding="latin-1")
    return [int(m) for m in re.findall(r"^X:\s*(\d+)", text, flags=re.MULTILINE)]


def folk_pieces(seed: int = 0) -> Iterator[list[SourceLine]]:
    """Essen folk songs (abc files in the music21 corpus), one line per tune, in a seeded order."""
    corpus = _music21().corpus

    files = sorted(p for p in corpus.getPaths(fileExtensions=["abc"]) if "essenFolksong" in str(p))
    tunes = [(path, number) for path in files if not path.stem.startswith("test") for number in _abc_tune_numbers(path)]
    order = np.random.default_rng(seed).permutation(len(tunes))
    for index in order:
        path, number = tunes[index]
        try:
            score = corpus.parse(str(path), number=number)
        except Exception as err:  # noqa: BLE001 - a broken tune is skipped
            log.debug("skipping %s tune %d: %s", path.name, number, err)
            continue
        parts = getattr(score, "parts", None)
        part = parts[0] if parts else score
        line = _line_from_music21_part(part, f"folk:{path.stem}:{number}", "folk", f"{path.stem}_{number}")
        if line is not None:
            yield [line]


def jazz_pieces(zip_path: str | Path, seed: int = 0) -> Iterator[list[SourceLine]]:
    """Weimar Jazz DB solos (a zip of headerless `midi_pitch,onset_s,duration_s` CSVs), performed timing."""
    with zipfile.ZipFile(zip_path) as archive:
        members = sorted(n for n in archive.namelist() if n.lower().endswith(".csv"))
        order = np.random.default_rng(seed).permutation(len(members))
        for index in order:
            member = members[index]
            rows = []
            for row in csv.reader(io.TextIOWrapper(archive.open(member), encoding="utf-8")):
                try:
                    rows.append((float(row[0]), float(row[1]), float(row[2])))
                except (ValueError, IndexError):
                    continue
            if len(rows) < MIN_NOTES:
                continue
            data = np.array(sorted(rows, key=lambda r: r[1]))
            pitches = np.round(data[:, 0]).astype(int)
            starts, durations = data[:, 1] - data[0, 1], np.maximum(data[:, 2], 0.03)
            # Transcriptions can overlap by a few ms: cut each note where the next one starts.
            durations[:-1] = np.minimum(durations[:-1], np.diff(starts))
            keep = durations > 0.02
            stem = Path(member).stem.removesuffix("_FINAL_solo")
            yield [
                SourceLine(
                    f"jazz:{stem}",
                    "jazz",
                    _safe(stem),
                    pitches[keep],
                    starts[keep],
                    durations[keep],
                    performed=True,
                )
            ]


def long_tone_pieces(seed: int = 0) -> Iterator[list[SourceLine]]:
    """Endless long-tone exercises in seconds (`performed`), each its own piece: held notes apart by rests,
    pitches uniform over LONG_TONE_SPAN semitones."""
    rng = np.random.default_rng([seed, 0x10E5])
    index = 0
    while True:
        n = int(rng.integers(LONG_TONE_NOTES[0], LONG_TONE_NOTES[1] + 1))
        durations = np.exp(rng.uniform(*np.log(LONG_TONE_SECONDS), n))
        rests = rng.uniform(*LONG_TONE_REST_SECONDS, n)
        starts = np.concatenate([[0.0], np.cumsum(durations + rests)[:-1]])
        pitches = 48 + rng.integers(0, LONG_TONE_SPAN, n)
        name = f"longtones_{index}"
        yield [SourceLine(f"longtones:{index}", "longtones", name, pitches, starts, durations, performed=True)]
        index += 1
