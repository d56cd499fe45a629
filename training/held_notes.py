"""How a held note's level moves over its length: ours against the bundle's source soundfont, measured alike."""

from __future__ import annotations

import numpy as np

from readdsp.core.performance import Note
from readdsp.core.render import Renderer
from readdsp.training import reference_renders as renders
from readdsp.training.audio_measures import F0_FRAME_RATE, loudness_contour
from readdsp.training.calibration import test_pitch

RATE = 44100
HELD_NOTE_S = 4.0
HELD_VELOCITY = 80
ONSET_S = 0.1
#: The level at each of these points of the note (a fraction of its length) is read against the level at
#: REFERENCE_POINT, past the attack; each level is the median over WINDOW_S around its point, so that vibrato's
#: level movement does not decide it.
POINTS = (0.5, 0.9)
REFERENCE_POINT = 0.2
WINDOW_S = 0.2


def held_note(instrument: str) -> Note:
    """A HELD_NOTE_S note at HELD_VELOCITY, a third of the way up the instrument's range (its controls generated)."""
    return Note(test_pitch(instrument), ONSET_S, ONSET_S + HELD_NOTE_S, HELD_VELOCITY)


def level_course(audio: np.ndarray, sample_rate: int, note: Note) -> dict[str, float]:
    """The note's A-weighted level at each of POINTS, in dB against its level at REFERENCE_POINT."""
    contour = loudness_contour(audio, sample_rate)
    half = int(WINDOW_S * F0_FRAME_RATE / 2)

    def level(point: float) -> float:
        centre = int((note.onset + point * note.duration) * F0_FRAME_RATE)
        return float(np.median(contour[max(centre - half, 0) : centre + half + 1]))

    reference = level(REFERENCE_POINT)
    return {f"at_{round(100 * point)}": round(level(point) - reference, 2) for point in POINTS}


def held_notes(renderer: Renderer, source_soundfont: str, seed: int = 0) -> dict:
    """Per instrument of the renderer's bundle: the held note's level course, ours and the source soundfont's."""
    rows = {}
    for instrument in renderer.instruments:
        note = held_note(instrument)
        perf = renders.one_part([note], renders.program_of(instrument), instrument)
        rows[instrument] = {
            "ours": level_course(renders.ours_render(renderer, perf, RATE, seed), RATE, note),
            "source": level_course(renders.soundfont_render(perf, source_soundfont, RATE), RATE, note),
        }
    return {
        "source_soundfont": renders.soundfont_label(source_soundfont),
        "note_s": HELD_NOTE_S,
        "velocity": HELD_VELOCITY,
        "instruments": rows,
    }
