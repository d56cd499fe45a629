"""Gain staging of a bundle: per-instrument calibration gains, the velocity range heard, and volume saturation."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from readdsp.core.levels import (
    BALANCE_LIMIT_DB,
    CALIBRATION_NOTE_S,
    CALIBRATION_VELOCITY,
    CALIBRATION_VOLUME,
    REFERENCE_LUFS,
)
from readdsp.core.performance import CONTROL_NAMES, Note, Performance
from readdsp.core.programs import INSTRUMENTS
from readdsp.core.render import Renderer
from readdsp.training.audio_measures import lufs
from readdsp.training.reference_renders import one_part, program_of, soundfont_render

RATE = 48000
#: The velocities of the dynamics check, each a note of DYNAMICS_NOTE_S followed by DYNAMICS_GAP_S of rest.
DYNAMICS_VELOCITIES = (20, 40, 60, 80, 100, 127)
DYNAMICS_NOTE_S = 0.8
DYNAMICS_GAP_S = 0.4
PHRASE_NOTES = 4  # a constant-velocity phrase of the dynamics check
MEASURED_NOTE = 2  # the phrase's note that is measured (its third)
#: A volume control within this of 0 or 1 counts as saturated.
SATURATION_EPS = 0.005


def test_pitch(instrument: str) -> int:
    """The pitch an instrument is calibrated and swept at: a third of the way up its range."""
    spec = INSTRUMENTS[instrument]
    return spec.low + (spec.high - spec.low) // 3


def sustained_note(instrument: str) -> Performance:
    """The calibration's note: CALIBRATION_NOTE_S at the test pitch and CALIBRATION_VELOCITY, no controls yet."""
    onset = 0.1
    return one_part(
        [Note(test_pitch(instrument), onset, onset + CALIBRATION_NOTE_S, CALIBRATION_VELOCITY)],
        program_of(instrument),
        instrument,
    )


def calibration_note(renderer: Renderer, instrument: str) -> Performance:
    """The sustained note with its volume control at CALIBRATION_VOLUME and its other controls generated."""
    perf = renderer.generate_expression(sustained_note(instrument))
    perf.parts[0].notes[0].set_controls(volume=CALIBRATION_VOLUME)
    return perf


def calibration_loudness(renderer: Renderer, instrument: str, seed: int = 0) -> float:
    """LUFS of the calibration note as the renderer plays it (with whatever levels it holds)."""
    return lufs(renderer.render(calibration_note(renderer, instrument), RATE, seed=seed).mix, RATE)


def calibrate(renderer: Renderer, seed: int = 0, source_soundfont: str | None = None) -> dict:
    """Per instrument: the calibration note's loudness uncalibrated, the gain (dB) that brings it to
    REFERENCE_LUFS, and its loudness re-measured with that gain applied. With `source_soundfont`, each gain is then
    lowered by the instrument's excess over the source's balance (`balance`, `balance_trims`)."""
    raw = Renderer(renderer.model, renderer.bundle_path)  # no levels: measure the model itself
    measured = {name: calibration_loudness(raw, name, seed) for name in renderer.instruments}
    gains = {name: round(REFERENCE_LUFS - lufs, 2) for name, lufs in measured.items() if np.isfinite(lufs)}
    result: dict = {"reference_lufs": REFERENCE_LUFS}
    if source_soundfont is not None and gains:
        result["balance"] = balance(Renderer(renderer.model, renderer.bundle_path, gains), source_soundfont, seed)
        gains = {name: round(gain + result["balance"]["trims_db"][name], 2) for name, gain in gains.items()}
    calibrated = Renderer(renderer.model, renderer.bundle_path, gains)
    after = {name: round(calibration_loudness(calibrated, name, seed), 2) for name in gains}
    return result | {
        "gains_db": gains,
        "uncalibrated_lufs": {name: round(v, 2) for name, v in measured.items()},
        "calibrated_lufs": after,
        "calibrated_spread_db": round(max(after.values()) - min(after.values()), 2) if after else None,
    }


def balance_trims(ours: dict[str, float], source: dict[str, float]) -> dict[str, float]:
    """Per instrument, the gain change (dB, 0 or negative) that takes back how much louder it plays against the
    median of ours than the source's does against the source's median, at most BALANCE_LIMIT_DB. Instruments are
    only ever lowered, so mixes keep their headroom."""
    ours_median, source_median = float(np.median(list(ours.values()))), float(np.median(list(source.values())))
    excess = {name: (ours[name] - ours_median) - (source[name] - source_median) for name in ours}
    return {name: round(-min(max(value, 0.0), BALANCE_LIMIT_DB), 2) + 0.0 for name, value in excess.items()}  # no -0.0


def balance(renderer: Renderer, source_soundfont: str, seed: int = 0) -> dict:
    """Each instrument's sustained note, its expression generated, by the renderer (at its calibrated levels) and
    by the source soundfont (LUFS), and the trims that bring ours to the source's balance (`balance_trims`)."""
    ours, source = {}, {}
    for name in renderer.instruments:
        perf = sustained_note(name)
        ours[name] = round(lufs(renderer.render(perf, RATE, seed=seed).mix, RATE), 2)
        source[name] = round(lufs(soundfont_render(perf, source_soundfont, RATE), RATE), 2)
    measured = {name: v for name, v in ours.items() if np.isfinite(v) and np.isfinite(source[name])}
    trims = balance_trims(measured, {name: source[name] for name in measured}) if measured else {}
    return {
        "ours_lufs": ours,
        "source_lufs": source,
        "trims_db": {name: trims.get(name, 0.0) for name in ours},
        "limit_db": BALANCE_LIMIT_DB,
    }


def velocity_sweep(instrument: str) -> Performance:
    """The test pitch repeated at each of DYNAMICS_VELOCITIES, separated by rests."""
    notes, t = [], 0.1
    for velocity in DYNAMICS_VELOCITIES:
        notes.append(Note(test_pitch(instrument), t, t + DYNAMICS_NOTE_S, velocity))
        t += DYNAMICS_NOTE_S + DYNAMICS_GAP_S
    return one_part(notes, program_of(instrument), instrument)


def note_loudness(audio: np.ndarray, sample_rate: int, note: Note, peak: float | None = None) -> float:
    """LUFS of a note's span plus 0.1 s of its release (`peak` as in `lufs`)."""
    return lufs(audio[int(note.onset * sample_rate) : int((note.offset + 0.1) * sample_rate)], sample_rate, peak)


def loudness_range(values: Iterable[float]) -> float:
    """Loudest minus quietest of the finite loudness values, in dB (0 with fewer than two)."""
    finite = [v for v in values if np.isfinite(v)]
    return float(max(finite) - min(finite)) if len(finite) >= 2 else 0.0


def note_loudness_range(audio: np.ndarray, sample_rate: int, notes: list[Note]) -> float:
    """Loudest minus quietest note (`note_loudness`, one peak for all), in dB."""
    peak = float(np.max(np.abs(audio)))
    return loudness_range(note_loudness(audio, sample_rate, note, peak) for note in notes)


def constant_phrase(instrument: str, velocity: int) -> Performance:
    """PHRASE_NOTES notes of the test pitch at one velocity, spaced as in the sweep."""
    onsets = 0.1 + (DYNAMICS_NOTE_S + DYNAMICS_GAP_S) * np.arange(PHRASE_NOTES)
    notes = [Note(test_pitch(instrument), float(t), float(t) + DYNAMICS_NOTE_S, velocity) for t in onsets]
    return one_part(notes, program_of(instrument), instrument)


def phrase_loudness_range(renderer: Renderer, instrument: str, seed: int = 0) -> float:
    """Loudest minus quietest over DYNAMICS_VELOCITIES of a constant-velocity phrase's third note (each phrase
    rendered alone), in dB: the velocity response once the Expression Generator is past a phrase's first notes,
    which it starts near its mean and lets lean on each other (a sweep's range is narrower for that)."""
    values = []
    for velocity in DYNAMICS_VELOCITIES:
        perf = constant_phrase(instrument, velocity)
        audio = renderer.render(perf, RATE, seed=seed).mix
        values.append(note_loudness(audio, RATE, perf.parts[0].notes[MEASURED_NOTE]))
    return loudness_range(values)


def dynamics(renderer: Renderer, source_soundfont: str, seed: int = 0) -> dict:
    """Per instrument: loudness range over velocities 20..127 (expression generated) for ours and for the source
    soundfont, and their difference (target: within 3 dB); and ours over constant-velocity phrases."""
    rows = {}
    for name in renderer.instruments:
        perf = velocity_sweep(name)
        notes = perf.parts[0].notes
        ours = note_loudness_range(renderer.render(perf, RATE, seed=seed).mix, RATE, notes)
        source = note_loudness_range(soundfont_render(perf, source_soundfont, RATE), RATE, notes)
        rows[name] = {
            "ours_range_db": round(ours, 2),
            "source_range_db": round(source, 2),
            "difference_db": round(ours - source, 2),
            "ours_phrase_range_db": round(phrase_loudness_range(renderer, name, seed), 2),
        }
    return rows


def volume_saturation(renderer: Renderer, performances: Iterable[tuple[str, Performance]]) -> dict:
    """Per piece: the share of notes whose generated volume control sits at 0 or 1 (target <= 10%)."""
    column = CONTROL_NAMES.index("volume")
    rows = {}
    for label, perf in performances:
        generated = renderer.generate_expression(perf)
        volumes = np.array([n.expression[column] for p in generated.parts for n in p.notes if n.expression is not None])
        if len(volumes):
            at_edge = (volumes <= SATURATION_EPS) | (volumes >= 1.0 - SATURATION_EPS)
            rows[label] = {
                "notes": len(volumes),
                "share_at_0_or_1": round(float(at_edge.mean()), 4),
                "share_at_1": round(float((volumes >= 1.0 - SATURATION_EPS).mean()), 4),
            }
    return rows


def real_pieces(example_midi: Path | None = None) -> list[tuple[str, Performance]]:
    """The bundled example MIDI and, when music21 is installed, a string quartet movement from its corpus."""
    from readdsp.core.midi_io import read_midi

    example = example_midi or Path(__file__).resolve().parents[1] / "examples" / "example.mid"
    pieces = [("examples/example.mid", read_midi(example))] if example.is_file() else []
    quartet = _music21_quartet()
    return pieces + ([quartet] if quartet else [])


QUARTET = "haydn/opus74no1/movement2"


def _music21_quartet() -> tuple[str, Performance] | None:
    import tempfile

    try:
        from music21 import corpus
    except ImportError:
        return None
    from readdsp.core.midi_io import read_midi

    with tempfile.TemporaryDirectory(prefix="readdsp-quartet-") as tmp:
        midi = Path(tmp) / "quartet.mid"
        corpus.parse(QUARTET).write("midi", fp=str(midi))
        return f"music21 {QUARTET}", read_midi(midi)
