"""The render API end to end (through a seeded random-weight bundle): timing, stems, determinism, expression."""

from __future__ import annotations

import json

import numpy as np
import pytest

from readdsp.core.bundle import load_bundle, read_bundle_config, save_bundle
from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import Note, Part, Performance
from readdsp.core.render import Renderer, split_segments


@pytest.fixture(scope="module")
def renderer(random_bundle) -> Renderer:
    return Renderer.load(random_bundle)


def two_part_piece() -> Performance:
    melody = [Note(67 + (i % 5), 0.5 * i, 0.5 * i + 0.4, 90) for i in range(6)]
    bass = [Note(48, 0.0, 1.4, 80), Note(43, 1.5, 2.9, 80)]
    drums = [Note(36, 0.0, 0.1, 100)]
    return Performance(
        [
            Part("Melody", 40, notes=melody),
            Part("Bass", 42, notes=bass),
            Part("Drums", 0, 9, True, notes=drums),
        ]
    )


def test_bundle_round_trip_keeps_weights_and_config(random_bundle, tmp_path) -> None:
    bundle = load_bundle(random_bundle)
    again = save_bundle(tmp_path / "copy.safetensors", bundle.config, bundle.states)
    assert read_bundle_config(again)["instruments"] == bundle.instruments
    copy = load_bundle(again)
    for module, state in bundle.states.items():
        for key, value in state.items():
            assert np.array_equal(value.numpy(), copy.states[module][key].numpy())


def test_bad_bundles_get_one_line_errors(tmp_path) -> None:
    with pytest.raises(ReaDDSPError, match="no such instrument bundle"):
        load_bundle(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(ReaDDSPError, match="not a valid safetensors bundle"):
        load_bundle(junk)


@pytest.mark.parametrize(
    ("section", "key", "value", "problem"),
    [
        ("expression_generator", "previous_dropout", 0.8, "does not know: previous_dropout"),
        ("expression_generator", "hidden", 10**9, "hidden must be a whole number from 1 to 4096"),
        ("expression_generator", "dropout", float("nan"), "dropout must be a finite number"),
        ("expression_generator", "velocity_skip", "yes", "velocity_skip must be true or false"),
        ("synthesis_generator", "conv_dilations", [], "conv_dilations must be a non-empty list"),
        (None, "sample_rate", "48k", "sample rate must be a whole number of Hz"),
        (None, "instruments", ["violin"] * 20, "names 20 instruments but its networks hold 16"),
        (None, "expression_scale", {"volume_db": [0, -10]}, "expression scale range"),
        (None, "synthesis_generator", "big", "'synthesis_generator' is not a table"),
    ],
)
def test_a_bundle_whose_config_does_not_fit_gets_a_one_line_error(
    random_bundle, tmp_path, section: str | None, key: str, value: object, problem: str
) -> None:
    """Settings are read from the file, so each is checked before a network is built from it."""
    bundle = load_bundle(random_bundle)
    config = json.loads(json.dumps(bundle.config))
    (config[section] if section else config)[key] = value
    bad = save_bundle(tmp_path / "bad.safetensors", config, bundle.states)
    with pytest.raises(ReaDDSPError, match=problem) as caught:
        Renderer.load(bad)
    assert str(caught.value).startswith(str(bad)) and "\n" not in str(caught.value)


def test_a_bundle_whose_weights_do_not_fit_its_config_gets_a_one_line_error(random_bundle, tmp_path) -> None:
    bundle = load_bundle(random_bundle)
    config = json.loads(json.dumps(bundle.config))
    config["expression_generator"]["hidden"] = 64  # the weights were made for 128
    bad = save_bundle(tmp_path / "bad.safetensors", config, bundle.states)
    with pytest.raises(ReaDDSPError, match="bundle weights do not fit its config"):
        Renderer.load(bad)


def test_segments_split_at_rests_and_at_length() -> None:
    notes = [Note(60, 0.0, 0.5), Note(62, 0.5, 1.0), Note(64, 1.6, 2.0)] + [
        Note(60, 3.0 + i, 4.0 + i) for i in range(10)
    ]
    segments = split_segments(notes)
    assert [len(s) for s in segments[:2]] == [2, 1]
    assert all(s[-1].offset - s[0].onset <= 8.0 for s in segments)
    assert sum(len(s) for s in segments) == len(notes)


def test_render_length_stems_mix_and_skipped_drums(renderer: Renderer) -> None:
    piece = two_part_piece()
    result = renderer.render(piece, sample_rate=22050, seed=1)
    assert result.sample_rate == 22050
    assert len(result.mix) == int(np.ceil((piece.duration + 0.5) * 22050))
    assert set(result.stems) == {"Melody", "Bass"}
    assert result.instruments == {"Melody": "violin", "Bass": "cello"}
    assert np.allclose(result.mix, result.stems["Melody"] + result.stems["Bass"], atol=1e-6)
    assert any("Drums" in w and "skipped" in w for w in result.warnings)
    # sound where the notes are, near silence well before the first bass note's release ends
    melody = result.stems["Melody"]
    first_note = melody[int(0.05 * 22050) : int(0.35 * 22050)]
    assert np.sqrt(np.mean(first_note**2)) > 1e-4


def test_a_render_without_stems_mixes_the_same_audio(renderer: Renderer) -> None:
    """The one-buffer mix (levels and CC11 applied per segment) equals the sum of the stems' mix."""
    piece = two_part_piece()
    piece.parts[1].notes[1] = Note(43, 2.0, 2.9, 80)  # after a rest: a segment that starts late
    piece.parts[1].cc[11] = [(0.0, 127), (1.0, 40), (2.4, 100)]  # the bass fades and swells across segments
    with_stems = renderer.render(piece, sample_rate=22050, seed=5)
    mix_only = renderer.render(piece, sample_rate=22050, seed=5, stems=False)
    assert not mix_only.stems and mix_only.instruments == with_stems.instruments
    assert np.max(np.abs(with_stems.mix)) > 1e-3
    assert np.allclose(mix_only.mix, with_stems.mix, atol=1e-6)


def test_render_is_deterministic_per_seed(renderer: Renderer) -> None:
    piece = two_part_piece()
    a = renderer.render(piece, seed=3).mix
    b = renderer.render(piece, seed=3).mix
    c = renderer.render(piece, seed=4).mix
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_expression_is_returned_editable_and_used(renderer: Renderer) -> None:
    piece = two_part_piece()
    filled = renderer.generate_expression(piece)
    assert piece.parts[0].notes[0].expression is None  # the input is never modified
    assert all(n.expression is not None for p in filled.parts[:2] for n in p.notes)
    matrix = filled.parts[0].expression_matrix()
    assert matrix.shape == (6, 6) and np.all((0 <= matrix) & (matrix <= 1))
    first = renderer.render(filled, seed=2)
    assert np.allclose(first.performance.parts[0].expression_matrix(), matrix)
    filled.parts[0].notes[2].set_controls(volume=1.0, vibrato=1.0)
    second = renderer.render(filled, seed=2)
    assert not np.array_equal(first.stems["Melody"], second.stems["Melody"])
    assert np.array_equal(first.stems["Bass"], second.stems["Bass"])


def test_instrument_override_and_unknown_instrument(renderer: Renderer) -> None:
    result = renderer.render(two_part_piece(), instrument="flute")
    assert set(result.instruments.values()) == {"flute"}
    with pytest.raises(ReaDDSPError, match="unknown instrument 'tuba'"):
        renderer.render(two_part_piece(), instrument="tuba")


def test_out_of_range_notes_render_with_a_warning(renderer: Renderer) -> None:
    piece = Performance([Part("High", 73, notes=[Note(110, 0.0, 0.5)])])
    result = renderer.render(piece)
    assert any("outside the flute's range" in w for w in result.warnings)
    assert np.isfinite(result.mix).all()


def test_polyphonic_part_renders_every_voice(renderer: Renderer) -> None:
    chord = Performance([Part("Chords", 40, notes=[Note(p, 0.0, 1.0) for p in (60, 64, 67)])])
    one = Performance([Part("One", 40, notes=[Note(60, 0.0, 1.0)])])
    three = renderer.render(chord, seed=0)
    single = renderer.render(one, seed=0)
    assert three.performance.parts[0].notes[0].expression is not None
    assert np.sqrt(np.mean(three.mix**2)) > np.sqrt(np.mean(single.mix**2))


def test_resampling_keeps_a_tone_clean_and_the_length_exact() -> None:
    from readdsp.core.resample import resample

    sr = 24000
    tone = np.sin(2 * np.pi * 1000.0 * np.arange(sr * 3) / sr).astype(np.float32)
    for rate in (48000, 44100, 16000):
        out = resample(tone, sr, rate)
        assert out.dtype == np.float32 and abs(len(out) - len(tone) * rate / sr) <= 1
        expected = np.sin(2 * np.pi * 1000.0 * np.arange(len(out)) / rate)
        middle = slice(rate // 10, -rate // 10)  # away from the edges' filter transients
        assert np.max(np.abs(out[middle] - expected[middle])) < 1e-3


def test_render_batches_stay_under_the_frame_budget_and_keep_every_job() -> None:
    from readdsp.core.render import SegmentJob, _batches

    jobs = [SegmentJob(0, "violin", float(i), [], n, i) for i, n in enumerate([900, 300, 2000, 50, 1200, 700])]
    batches = list(_batches(jobs, 2100))
    assert [j for b in batches for j in b] == jobs  # in order, none lost
    assert all(sum(j.n_frames for j in b) <= 2100 for b in batches)
    assert [len(b) for b in batches] == [2, 2, 2]


def test_heap_trim_only_above_the_limit() -> None:
    from readdsp.core.memory import resident_mb, trim_heap_above

    assert resident_mb() > 10
    assert trim_heap_above(limit_mb=1e9) is False
    trim_heap_above(limit_mb=0)  # trims where glibc has malloc_trim; a no-op elsewhere, never an error


def test_a_plan_is_made_once_and_notes_keep_their_identity(renderer: Renderer) -> None:
    # Two notes with the same onset and pitch (a unison double stop) land in two voices; matching voice notes back
    # by (onset, pitch) would give both the same controls.
    notes = [Note(64, 0.0, 1.0, 90), Note(64, 0.0, 0.6, 60), Note(67, 1.0, 1.5, 90)]
    notes[0].set_controls(volume=0.9, vibrato=0.1)
    notes[1].set_controls(volume=0.2, vibrato=0.8)
    plan = renderer.prepare(Performance([Part("Violin", 40, notes=notes)]))
    rendered = plan.performance.parts[0].notes
    assert rendered[0].controls()["volume"] == pytest.approx(0.9)
    assert rendered[1].controls()["volume"] == pytest.approx(0.2)
    assert rendered[2].expression is not None  # generated once, at planning
    rendered[2].set_controls(attack=0.0)  # an edit after planning renders without planning again
    from_plan = renderer.render(plan, 16000, seed=4)
    again = renderer.render(plan.performance, 16000, seed=4)
    assert np.array_equal(from_plan.mix, again.mix)
    assert from_plan.performance.parts[0].notes[2].controls()["attack"] == 0.0
