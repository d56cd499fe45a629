"""A rendered note starts where its MIDI note starts (a documented 5 ms lead-in); a take cut at its item end fades
out (the `render` file's own end: tests/test_levels.py::test_file_end_fades_out_instead_of_cutting)."""

from __future__ import annotations

import numpy as np
import pytest

from readdsp.core.performance import Note, Part, Performance
from readdsp.core.render import LEAD_IN_S, Renderer
from readdsp.reaper_ext.render_items import FADE_OUT_S, fit_to_length

ONSETS = (0.6, 2.5)  # two segments: the rest between them is longer than a segment's release


@pytest.fixture(scope="module")
def renderer(random_bundle) -> Renderer:
    return Renderer.load(random_bundle)


def two_notes() -> Performance:
    notes = [Note(64, ONSETS[0], ONSETS[0] + 0.4, 100), Note(67, ONSETS[1], ONSETS[1] + 0.5, 100)]
    return Performance([Part("Violin", 40, notes=notes)])


def test_each_segment_is_silent_until_its_lead_in_and_sounds_at_its_note(renderer: Renderer) -> None:
    sr = 16000  # the model's own rate: no resampling between the gate and the file
    mix = renderer.render(two_notes(), sr, seed=0).mix
    first_sound = int(np.flatnonzero(mix)[0])
    assert round((ONSETS[0] - LEAD_IN_S) * sr) <= first_sound < round(ONSETS[0] * sr)
    second = slice(round((ONSETS[0] + 0.4 + 0.6) * sr), round((ONSETS[1] - LEAD_IN_S) * sr))
    assert not mix[second].any()  # after the first note's release, nothing before the second note's lead-in
    for onset in ONSETS:
        attack = mix[round(onset * sr) : round((onset + 0.05) * sr)]
        assert np.sqrt(np.mean(np.square(attack))) > 1e-4  # the note sounds from its MIDI onset


def test_a_resampled_render_starts_within_the_lead_in_but_for_the_resamplers_ringing(renderer: Renderer) -> None:
    sr = 48000  # the gate works at the model's rate; soxr's filter rings a few ms ahead of the gated start
    mix = renderer.render(two_notes(), sr, seed=0).mix
    peak = np.max(np.abs(mix))
    # Just before the gate, soxr rings with the untrained model's content near its Nyquist: -40 to -108 dB under
    # the peak over 12 seeded random bundles. A start that ignored the gate would be near 0 dB.
    assert np.max(np.abs(mix[: round((ONSETS[0] - LEAD_IN_S) * sr)])) < 10 ** (-30 / 20) * peak
    # and the ringing has died within one more lead-in: under -130 dB on every one of those bundles
    assert np.max(np.abs(mix[: round((ONSETS[0] - 2 * LEAD_IN_S) * sr)])) < 1e-5 * peak  # under -100 dB


def test_a_take_cut_at_its_item_end_fades_out() -> None:
    sr = 16000
    ringing = np.ones(sr, np.float32)  # still sounding where the item ends
    take = fit_to_length(ringing, sr // 2, sr)
    assert len(take) == sr // 2 and take[-1] == 0.0 and take[: -round(FADE_OUT_S * sr)].min() == 1.0
    assert np.all(np.diff(take[-round(FADE_OUT_S * sr) :]) <= 0)  # a fade, not a step
