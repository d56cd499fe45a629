"""Distances to real recordings: know or transcribe each recording's notes, re-render them with ours and with
FluidSynth (FluidR3_GM and MuseScore_General, dry), and compare each render with the recording."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import Note
from readdsp.core.programs import INSTRUMENTS
from readdsp.core.render import Renderer
from readdsp.core.resample import resample
from readdsp.core.units import amplitude_to_db
from readdsp.datasets import note_samples
from readdsp.datasets.cache import open_dataset
from readdsp.datasets.note_samples import pitch_from_name
from readdsp.datasets.pairs import AUDIO_SUFFIXES
from readdsp.training.audio_measures import (
    contour_correlation,
    loudness_contour,
    mean_spread,
    note_pitch_spreads,
    spectral_envelope_distance,
)
from readdsp.training.real_excerpts import mel_distance
from readdsp.training.reference_renders import one_part, ours_render, soundfont_render
from readdsp.training.transcription import transcribe

RATE = 44100
SOUNDFONTS = {"fluidr3": "FluidR3_GM", "musescore": "MuseScore_General"}
SYSTEMS = ("ours", *SOUNDFONTS.values())
#: Dynamic markings (Philharmonia and TinySOL names) -> MIDI velocity.
VELOCITY = note_samples.DYNAMIC_VELOCITY
#: Recording instrument -> (ReaDDSP instrument name in INSTRUMENTS, whose GM program both synths play).
INSTRUMENT_OF = {"doublebass": "double_bass", "bass-clarinet": "clarinet", "Fl": "flute", "Cb": "double_bass"}
PHILHARMONIA_DYNAMICS = ("piano", "mezzo-forte", "forte")
PHILHARMONIA_LENGTHS = ("1", "15")
#: Philharmonia notes used per instrument (spread over its pitches) and the level window that times each note.
PHILHARMONIA_PER_INSTRUMENT = 12
#: A recording whose first (last) 20 ms stand within this of its loudest 20 ms was cut from playing that had begun
#: before it (goes on after it): PHENICX's wind clips, 1 s from the middle of a performance.
EDGE_WITHIN_DB = 6.0
#: Such a note is re-rendered from this long before the cut (and on past it), then cut as the recording was, so that
#: each system is past its attack at the first frame, as the player was (their wind notes come within 3 dB of the
#: held level in 0.27 s at most: FluidR3_GM's oboe).
EDGE_LEAD_S = 0.5
#: Real phrases compared per instrument (`phrase_recordings`).
PHRASES_PER_INSTRUMENT = 16


@dataclass
class Recording:
    """A real recording with its notes: `label` names it, `instrument` is what plays it (e.g. "bass-clarinet"),
    `program_instrument` the INSTRUMENTS entry whose program both synths play."""

    path: Path
    label: str
    instrument: str
    program_instrument: str
    notes: list[Note]
    audio: np.ndarray  # mono, at RATE


def load_mono(path: Path) -> np.ndarray:
    audio, sr = sf.read(path, dtype="float32", always_2d=True)
    return resample(audio.mean(axis=1), sr, RATE)


def timed_note(audio: np.ndarray, pitch: int, velocity: int) -> Note | None:
    """A single note at RATE timed by its level (`note_samples.timed_note`)."""
    return note_samples.timed_note(audio, RATE, pitch, velocity)


def phenicx(root: Path) -> Iterator[Recording]:
    """PHENICX-Anechoic 1-s clips; their annotations do not overlap the clips, so the notes are transcribed."""
    for path in sorted((root / "real-excerpts/phenicx_anechoic/audio/beethoven").glob("*.wav")):
        name = re.sub(r"\d+$", "", path.stem)
        instrument = INSTRUMENT_OF.get(name, name)
        if instrument not in INSTRUMENTS:
            continue
        audio = load_mono(path)
        if notes := transcribe(audio, RATE, pitch_range=INSTRUMENTS[instrument].pitch_range):
            yield Recording(path, f"phenicx/{path.stem}", instrument, instrument, notes, audio)


def evenly_spaced(items: list, count: int) -> list:
    """At most `count` of `items`, at evenly spaced positions from the first to the last (all of them if fewer)."""
    if len(items) <= count:
        return list(items)
    return [items[i] for i in np.linspace(0, len(items) - 1, count).round().astype(int)]


def philharmonia_files(root: Path, folder: str, lengths: tuple[str, ...]) -> Iterator[tuple[Path, str, str]]:
    """The Philharmonia notes of `folder` with a normal articulation and one of `lengths` (the name's length code):
    (path, pitch name, dynamic), from names like `oboe_A4_1_forte_normal.mp3`."""
    for path in sorted((root / "philharmonia" / folder).glob("*.mp3")):
        parts = path.stem.split("_")
        if len(parts) == 5 and parts[2] in lengths and parts[4] == "normal":
            yield path, parts[1], parts[3]


def philharmonia(root: Path, per_instrument: int = PHILHARMONIA_PER_INSTRUMENT) -> Iterator[Recording]:
    """Philharmonia single notes (pitch and dynamic from the file name), sustained ones with a normal articulation,
    spread evenly over the pitches inside the range of the instrument that renders them."""
    for folder in ("oboe", "bass-clarinet"):
        program_instrument = INSTRUMENT_OF.get(folder, folder)
        spec = INSTRUMENTS[program_instrument]
        chosen = []
        for path, name, dynamic in philharmonia_files(root, folder, PHILHARMONIA_LENGTHS):
            if dynamic in PHILHARMONIA_DYNAMICS and spec.covers(pitch := pitch_from_name(name)):
                chosen.append((pitch, dynamic, path))
        for pitch, dynamic, path in evenly_spaced(sorted(chosen), per_instrument):
            audio = load_mono(path)
            note = timed_note(audio, pitch, VELOCITY[dynamic])
            if note:
                yield Recording(path, f"philharmonia/{path.stem}", folder, program_instrument, [note], audio)


def tinysol(root: Path) -> Iterator[Recording]:
    """TinySOL notes: `Fl-ord-C4-mf-...wav` gives instrument, pitch and dynamic."""
    for path in sorted((root / "real-excerpts/tinysol/audio").rglob("*.wav")):
        code, _, name, dynamic = path.stem.split("-")[:4]
        audio = load_mono(path)
        note = timed_note(audio, pitch_from_name(name), VELOCITY.get(dynamic, 72))
        instrument = INSTRUMENT_OF.get(code, code)
        if note and instrument in INSTRUMENTS:
            yield Recording(path, f"tinysol/{path.stem}", instrument, instrument, [note], audio)


def dataset_recordings(dataset_dir: Path, split: str = "test") -> list[Recording]:
    """A cached dataset's examples of one split as Recordings, measured as the shared recordings are (e.g. a
    dataset's held-out notes of real players)."""
    dataset = open_dataset(dataset_dir)
    found = []
    for example in dataset.iter_examples(split):
        audio = resample(example.audio, dataset.sample_rate, RATE)
        name = example.instrument
        found.append(Recording(Path(example.id), f"{split}/{example.id}", name, name, example.note_list(), audio))
    return found


def phrase_recordings(folder: Path, per_instrument: int = PHRASES_PER_INSTRUMENT) -> list[Recording]:
    """Real monophonic phrases in `folder`'s sub-folders, one per instrument named as the bundle names it (e.g.
    Philharmonia's `flute/flute_C5_phrase_mezzo-forte_legato.mp3`), each transcribed (`transcribe`); up to
    `per_instrument` of each, spread over its files in name order. A phrase with no note heard is skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReaDDSPError("folder of phrase recordings not found", folder)
    chosen = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if sub.name not in INSTRUMENTS:
            raise ReaDDSPError(f"names no instrument (known: {', '.join(sorted(INSTRUMENTS))})", sub)
        files = sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
        for path in evenly_spaced(files, per_instrument):
            audio = load_mono(path)
            if notes := transcribe(audio, RATE, pitch_range=INSTRUMENTS[sub.name].pitch_range):
                chosen.append(Recording(path, f"{sub.name}/{path.stem}", sub.name, sub.name, notes, audio))
    if not chosen:
        raise ReaDDSPError(
            "no phrase with a note in any instrument sub-folder (expected e.g. flute/phrase1.wav)", folder
        )
    return chosen


def recordings(root: Path) -> list[Recording]:
    """Every recording this module compares with, from shared/data at `root`."""
    return [*phenicx(root), *philharmonia(root), *tinysol(root)]


def distances(
    real: np.ndarray, render: np.ndarray, notes: list[Note], real_deviation: float | None, spreads: list
) -> dict:
    """Log-mel and spectral-envelope distance (dB), |within-note pitch deviation - the recording's| (cents; the
    render's from its notes' `spreads`, `note_pitch_spreads`) and loudness-contour correlation over the notes'
    span. `render` is as long as `real`."""
    deviation = mean_spread(spreads)
    span = slice(int(notes[0].onset * 250), int(notes[-1].offset * 250) + 1)
    return {
        "log_mel_db": mel_distance(real, render, RATE),
        "spectral_envelope_db": spectral_envelope_distance(real, render, RATE),
        "pitch_deviation_diff_cents": None
        if deviation is None or real_deviation is None
        else abs(deviation - real_deviation),
        "loudness_contour_r": contour_correlation(
            loudness_contour(real, RATE)[span], loudness_contour(render, RATE)[span]
        ),
    }


def sounding_edges(audio: np.ndarray) -> tuple[bool, bool]:
    """Whether the recording is already sounding at its start, and still sounding at its end (EDGE_WITHIN_DB)."""
    hop = RATE // 50
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
    level = amplitude_to_db(np.sqrt(np.mean(frames**2, axis=1)), floor_db=-120.0)
    top = float(level.max())
    return bool(level[0] >= top - EDGE_WITHIN_DB), bool(level[-1] >= top - EDGE_WITHIN_DB)


def notes_across_edges(notes: list[Note], audio: np.ndarray) -> tuple[list[Note], float]:
    """The notes to render and where the recording starts in that render (s): a first note sounding at the cut
    begins EDGE_LEAD_S earlier, a last note sounding at the end goes on EDGE_LEAD_S past it."""
    begun, goes_on = sounding_edges(audio)
    lead = EDGE_LEAD_S if begun else 0.0
    moved = [Note(n.pitch, n.onset + lead, n.offset + lead, n.velocity) for n in notes]
    if begun:
        moved[0] = Note(moved[0].pitch, 0.0, moved[0].offset, moved[0].velocity)
    if goes_on:
        last = moved[-1]
        moved[-1] = Note(last.pitch, last.onset, lead + len(audio) / RATE + EDGE_LEAD_S, last.velocity)
    return moved, lead


def compare_recording(renderer: Renderer, recording: Recording, seed: int = 0) -> dict:
    """One recording re-rendered by every system (across its cut edges, `notes_across_edges`) and measured
    against it."""
    notes, lead = notes_across_edges(recording.notes, recording.audio)
    perf = one_part(notes, INSTRUMENTS[recording.program_instrument].program)
    plan = renderer.prepare(perf)
    rendered_as = plan.parts[0].instrument if plan.parts else None
    renders = {"ours": ours_render(renderer, perf, RATE, seed)}
    renders |= {label: soundfont_render(perf, name, RATE) for name, label in SOUNDFONTS.items()}
    start, length = int(round(lead * RATE)), len(recording.audio)
    renders = {system: np.pad(audio[start:], (0, max(0, length - len(audio) + start)))[:length]
               for system, audio in renders.items()}  # fmt: skip
    spreads = {"real": note_pitch_spreads(recording.audio, RATE, recording.notes)}
    spreads |= {system: note_pitch_spreads(audio, RATE, recording.notes) for system, audio in renders.items()}
    real_deviation = mean_spread(spreads["real"])
    return {
        "instrument": recording.instrument,
        "rendered_as": rendered_as,
        "notes": len(recording.notes),
        **{
            system: distances(recording.audio, audio, recording.notes, real_deviation, spreads[system])
            for system, audio in renders.items()
        },
        NOTE_SPREADS: {"length_s": [n.offset - n.onset for n in recording.notes], **spreads},
    }


#: A compared recording's per-note lengths and pitch spreads (the recording's and each system's): folded into
#: `movement_by_length` and not kept in the results.
NOTE_SPREADS = "note_spreads"
#: Note-length bins (s) of the pitch-movement table: a player's vibrato shows more of itself the longer the note.
LENGTH_BINS = (0.0, 0.2, 0.3, 0.5, 1.0, float("inf"))


def movement_by_length(rows: list[dict]) -> dict:
    """Per note-length bin (LENGTH_BINS): the notes every system and the recording could be measured on, and the
    median within-note pitch spread (cents) of the recordings and of each system's renders."""
    notes = [
        (length, *values)
        for row in rows
        for length, *values in zip(
            row[NOTE_SPREADS]["length_s"], *(row[NOTE_SPREADS][k] for k in ("real", *SYSTEMS)), strict=True
        )
        if None not in values
    ]
    table = {}
    columns = ("real", *SYSTEMS)
    for low, high in zip(LENGTH_BINS[:-1], LENGTH_BINS[1:], strict=True):
        chosen = np.array([values for length, *values in notes if low <= length < high], float)
        label = f"{low:g}-{high:g} s" if np.isfinite(high) else f"{low:g} s and over"
        medians = np.median(chosen, axis=0) if len(chosen) else [None] * len(columns)
        table[label] = {"notes": len(chosen)} | {
            key: None if value is None else round(float(value), 2) for key, value in zip(columns, medians, strict=True)
        }
    return table


METRICS = ("log_mel_db", "spectral_envelope_db", "pitch_deviation_diff_cents", "loudness_contour_r")


def _mean(rows: list[dict], system: str, metric: str) -> float | None:
    values = [r[system][metric] for r in rows if r[system][metric] is not None]
    return round(float(np.mean(values)), 3) if values else None


def beats(ours: dict, rival: dict) -> bool:
    """Issue 12's target E against one rival: lower log-mel and spectral-envelope distance, and within-note pitch
    deviation and loudness contour at least as close."""

    def at_most(a: float | None, b: float | None) -> bool:
        return a is not None and (b is None or a <= b)

    return (
        at_most(ours["log_mel_db"], rival["log_mel_db"])
        and ours["log_mel_db"] != rival["log_mel_db"]
        and at_most(ours["spectral_envelope_db"], rival["spectral_envelope_db"])
        and ours["spectral_envelope_db"] != rival["spectral_envelope_db"]
        and at_most(ours["pitch_deviation_diff_cents"], rival["pitch_deviation_diff_cents"])
        and at_most(_neg(ours["loudness_contour_r"]), _neg(rival["loudness_contour_r"]))
    )


def _neg(value: float | None) -> float | None:
    return None if value is None else -value


def per_instrument_table(rows: dict[str, dict]) -> dict:
    """Per recording instrument: each system's mean of every metric, what ours rendered it as, and whether ours
    meets target E against MuseScore_General (`beats_musescore`); `overall` is the mean over instruments, and
    `target_e` holds only if every instrument the bundle plays natively meets it."""
    table: dict[str, dict] = {}
    for instrument in sorted({r["instrument"] for r in rows.values()}):
        mine = [r for r in rows.values() if r["instrument"] == instrument]
        entry = {"recordings": len(mine), "notes": sum(r["notes"] for r in mine), "rendered_as": mine[0]["rendered_as"]}
        entry |= {system: {m: _mean(mine, system, m) for m in METRICS} for system in SYSTEMS}
        entry["native"] = instrument == entry["rendered_as"]  # a bass clarinet rendered as clarinet is not
        entry["beats_musescore"] = beats(entry["ours"], entry["MuseScore_General"])
        table[instrument] = entry
    instruments = list(table.values())
    overall = {system: {m: _mean(instruments, system, m) for m in METRICS} for system in SYSTEMS}
    overall["beats_musescore"] = beats(overall["ours"], overall["MuseScore_General"])
    native = [e for e in instruments if e["native"]]
    overall["target_e"] = bool(native) and all(e["beats_musescore"] for e in native)
    return {"instruments": table, "overall": overall}


def compare_recordings(renderer: Renderer, chosen: list[Recording], seed: int = 0) -> dict:
    """Each recording compared with ours and both soundfonts: per-recording rows and the per-instrument table
    (`per_instrument_table`)."""
    rows = {rec.label: compare_recording(renderer, rec, seed) for rec in chosen}
    table = per_instrument_table(rows)
    for name, entry in table["instruments"].items():
        entry["pitch_movement_by_length"] = movement_by_length([r for r in rows.values() if r["instrument"] == name])
    for row in rows.values():
        del row[NOTE_SPREADS]
    return {"recordings": rows, **table}


def compare_with_recordings(renderer: Renderer, root: Path, seed: int = 0) -> dict:
    """Every recording under shared/data `root` compared (`compare_recordings`)."""
    return compare_recordings(renderer, recordings(root), seed)
