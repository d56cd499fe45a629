"""Notes on the frame grid: spans, and the position a note's frames carry, short and long."""

from __future__ import annotations

import numpy as np
import pytest

from readdsp.core.note_frames import (
    FRAME_RATE,
    POSITION_RELEASE_S,
    POSITION_SPAN_S,
    note_position,
    notes_to_frames,
)
from readdsp.core.performance import Note
from readdsp.core.renderer_factory import load_renderer
from readdsp.training import held_notes

SPAN = int(round(POSITION_SPAN_S * FRAME_RATE))
RELEASE = int(round(POSITION_RELEASE_S * FRAME_RATE))


def test_a_short_note_counts_its_position_across_its_length() -> None:
    np.testing.assert_allclose(note_position(10), np.arange(10) / 10)
    np.testing.assert_allclose(note_position(SPAN), np.arange(SPAN) / SPAN)


@pytest.mark.parametrize("length", [SPAN + 1, SPAN + 60, 2 * SPAN + 7, 4 * FRAME_RATE])
def test_a_long_note_starts_as_a_span_long_note_holds_mid_note_and_ends_on_a_shorter_release(length: int) -> None:
    position = note_position(length)
    attack = SPAN // 2
    np.testing.assert_allclose(position[:attack], np.arange(attack) / SPAN)
    release = max(RELEASE, SPAN - length // 2)
    assert int(np.sum(position > 0.5)) == release - 1  # the release's first frame is mid-note
    np.testing.assert_allclose(position[length - release :], 0.5 + 0.5 * np.arange(release) / release)
    assert np.all(position[attack : length - release] == 0.5)
    steps = np.diff(position)
    assert np.all(steps >= 0) and steps.max() <= 0.5 / RELEASE + 1e-7


def test_the_course_is_continuous_in_the_note_length() -> None:
    """One frame more never changes a note's course by more than one frame's step: no jump at the span."""
    for length in range(SPAN - 3, 2 * SPAN):
        shorter, longer = note_position(length), note_position(length + 1)
        assert np.abs(longer[: length // 2] - shorter[: length // 2]).max() <= 1.0 / SPAN + 1e-6
        assert np.abs(longer[-(length // 2) :] - shorter[-(length // 2) :]).max() <= 0.5 / RELEASE + 1e-6


def test_laid_notes_carry_their_positions_and_rests_carry_zero() -> None:
    notes = [Note(60, 0.0, 0.2, 80), Note(62, 0.5, 0.5 + 3.0, 80)]
    frames = notes_to_frames(notes, 5 * FRAME_RATE)
    np.testing.assert_allclose(frames.position[:50], note_position(50))
    assert np.all(frames.position[50:125] == 0)
    np.testing.assert_allclose(frames.position[125:875], note_position(750))
    assert frames.stacked().shape == (5 * FRAME_RATE, 10)


def test_the_bundled_instruments_hold_a_long_note() -> None:
    """A 4-s note at velocity 80 stays within 2 dB of its level at 20% up to 90% of its length (it faded 5-8 dB
    when the position ran on through it, as no note in the corpus does that long)."""
    result = held_notes.held_notes(load_renderer(), "fluidr3")
    for instrument, row in result["instruments"].items():
        course = row["ours"]
        assert abs(course["at_50"]) < 2.0 and abs(course["at_90"]) < 2.0, (instrument, course)
