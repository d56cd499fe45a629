"""Incremental re-render: an edit re-renders only the segments it touches and splices them into the mix."""

from __future__ import annotations

import numpy as np
import pytest

from readdsp.core.performance import Note, Part, Performance
from readdsp.core.render import Renderer
from readdsp.core.render_session import RenderSession

#: A segment generated alone and inside a full batch differ by float rounding in the compiled loops; the spliced
#: mix must stay this close to a full render of the same plan (relative to the mix's peak).
SPLICE_TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def renderer(random_bundle) -> Renderer:
    return Renderer.load(random_bundle)


def phrases() -> Performance:
    """Three phrases separated by rests (three segments), and a bass part."""
    melody = [Note(67 + i % 4, t + 0.3 * i, t + 0.3 * i + 0.25, 90) for t in (0.0, 2.0, 4.0) for i in range(4)]
    bass = [Note(43, 0.0, 1.8, 80), Note(45, 2.0, 5.0, 80)]
    return Performance([Part("Violin", 40, notes=melody), Part("Cello", 42, notes=bass)])


def test_an_expression_edit_rerenders_one_segment_and_matches_a_full_render(renderer: Renderer) -> None:
    plan = renderer.prepare(phrases())
    session = RenderSession(renderer, plan, 16000, seed=5)
    session.render()
    plan.performance.parts[0].notes[5].set_controls(volume=0.1, vibrato=1.0)  # a note of the second phrase
    result, stats = session.update()
    assert stats.segments_rendered == 1 and stats.segments_removed == 1
    full = renderer.render(plan, 16000, seed=5)
    peak = np.max(np.abs(full.mix))
    assert np.max(np.abs(result.mix - full.mix)) <= SPLICE_TOLERANCE * peak
    assert result.performance.parts[0].notes[5].controls()["vibrato"] == 1.0


def test_no_edit_rerenders_nothing_and_undoing_an_edit_restores_the_audio(renderer: Renderer) -> None:
    plan = renderer.prepare(phrases())
    session = RenderSession(renderer, plan, 16000, seed=1)
    first = session.render().mix.copy()
    _, stats = session.update()
    assert stats.segments_rendered == 0
    note = plan.performance.parts[1].notes[0]
    before = note.expression.copy()
    note.set_controls(attack=1.0 - note.controls()["attack"])
    assert session.update()[1].segments_rendered == 1
    note.expression = before
    result, stats = session.update()
    assert stats.segments_rendered == 1
    assert np.allclose(result.mix, first, atol=SPLICE_TOLERANCE * np.max(np.abs(first)))


def test_a_timing_edit_reseeds_only_its_neighbourhood(renderer: Renderer) -> None:
    plan = renderer.prepare(phrases())
    session = RenderSession(renderer, plan, 16000, seed=2)
    session.render()
    plan.performance.parts[0].notes[0].offset += 0.1  # first phrase only
    _, stats = session.update()
    assert stats.segments_rendered == 1


def test_a_drawn_curve_rerenders_only_the_segments_under_it(renderer: Renderer) -> None:
    from readdsp.core.curve_overrides import Curve, PartCurves

    plan = renderer.prepare(phrases())
    session = RenderSession(renderer, plan, 16000, seed=3)
    session.render()
    session.curves = {0: PartCurves(f0_midi=[Curve([2.0, 2.8], [69.0, 70.0])])}  # over the violin's second phrase
    _, stats = session.update()
    assert stats.segments_rendered == 1 and stats.segments_removed == 1
    full = renderer.render(plan, 16000, seed=3, curves=session.curves)
    assert np.max(np.abs(session.result.mix - full.mix)) <= SPLICE_TOLERANCE * np.max(np.abs(full.mix))
