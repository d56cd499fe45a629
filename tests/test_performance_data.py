"""Performance-model data: tempo targets on a synthetic performance, score features, and the readers on shared data."""

from __future__ import annotations

import numpy as np
import pytest

from readdsp.core.score_features import N_FEATURES, ScoreNotes, bar_grid, score_features
from readdsp.training.performance_data import asap_pieces, split_for, tempo_targets, vienna_pieces
from tests.conftest import shared_data

PERFORMANCE = shared_data() / "performance"
needs_data = pytest.mark.skipif(
    not (PERFORMANCE / "vienna4x22").is_dir(), reason=f"shared performance data not found at {PERFORMANCE}"
)


def test_tempo_targets_recover_articulation_and_deviation():
    onset = np.arange(32) * 0.5
    duration = np.full(32, 0.5)
    seconds_per_quarter = 0.6
    shift = np.zeros(32)
    shift[10] = 0.05 * seconds_per_quarter  # one note late by 0.05 quarters
    perf_onset = 1.0 + onset * seconds_per_quarter + shift
    log_art, deviation = tempo_targets(onset, duration, perf_onset, duration * seconds_per_quarter * 0.5)
    assert np.allclose(log_art[np.arange(32) != 10], -1.0, atol=0.05)
    assert abs(deviation[10] - 0.05) < 0.02 and np.nanmax(np.abs(np.delete(deviation, 10))) < 0.02


def test_unmatched_notes_have_no_targets():
    onset = np.arange(8.0)
    perf = onset * 0.5
    perf[3] = np.nan
    log_art, deviation = tempo_targets(onset, np.ones(8), perf, np.full(8, 0.4))
    assert np.isnan(log_art[3]) and np.isnan(deviation[3]) and not np.isnan(log_art[2])


def test_score_features_shape_and_metre():
    onset = np.array([0.0, 0.0, 1.0, 2.0, 3.0, 3.5])
    bar_start, bar_length = bar_grid(onset, [(0.0, 3.0)])
    assert list(bar_start) == [0, 0, 0, 0, 3, 3] and set(bar_length) == {3.0}
    notes = ScoreNotes(np.array([72, 60, 64, 67, 72, 71]), onset, np.full(6, 1.0), bar_start, bar_length)
    features = score_features(notes)
    assert features.shape == (6, N_FEATURES) and np.isfinite(features).all()
    assert features[0, 11] == 1 and features[1, 11] == 0  # the top note of the chord is marked


def test_split_is_by_piece_and_stable():
    assert split_for("asap:Bach/Fugue/bwv_848") == split_for("asap:Bach/Fugue/bwv_848")
    assert {split_for(f"piece{i}") for i in range(200)} == {"train", "validation", "test"}


@needs_data
def test_vienna_reader_aligns_velocities():
    piece = next(vienna_pieces(PERFORMANCE / "vienna4x22"))
    assert piece.piece_id.startswith("vienna:") and len(piece.notes) > 100
    assert np.mean(~np.isnan(piece.velocity)) > 0.9 and np.nanmax(piece.velocity) <= 127
    assert np.nanmedian(np.abs(piece.deviation)) < 0.1  # aligned onsets sit near the smoothed tempo curve


@needs_data
def test_asap_reader_matches_most_score_notes():
    piece = next(asap_pieces(PERFORMANCE / "asap"))
    assert piece.piece_id.startswith("asap:") and np.mean(~np.isnan(piece.velocity)) > 0.6


def test_local_register_features_match_a_direct_computation():
    rng = np.random.default_rng(1)
    onset = np.sort(rng.integers(0, 200, 300) / 4.0)
    pitch = rng.integers(30, 100, 300)
    order = np.lexsort((-pitch, onset))
    onset, pitch = onset[order], pitch[order]
    bar_start, bar_length = bar_grid(onset, [])
    features = score_features(ScoreNotes(pitch, onset, np.full(300, 0.5), bar_start, bar_length))
    for i in range(300):
        near = np.abs(onset - onset[i]) <= 4.0
        assert features[i, 16] == pytest.approx((pitch[near].max() - pitch[i]) / 24.0, abs=1e-6)
        assert features[i, 17] == pytest.approx((pitch[i] - pitch[near].min()) / 24.0, abs=1e-6)


def test_velocity_targets_are_offsets_from_the_performance_mean():
    from readdsp.training.performance_train import velocity_offset

    offsets = velocity_offset(np.array([50.0, np.nan, 70.0, 60.0]))
    assert np.allclose(offsets[[0, 2, 3]], [-10, 10, 0]) and np.isnan(offsets[1])
    assert np.isnan(velocity_offset(np.full(3, np.nan))).all()  # Weimar Jazz: no velocities, no targets
