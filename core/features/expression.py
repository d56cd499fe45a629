"""The six MIDI-DDSP note expression controls, pooled from synthesis parameters over note boundaries.

Follows the reference dataset code (midi_ddsp `create_expression_generator_dataset_utils`,
`get_piece_note_features`, with `interpretable_conditioning`) constant for constant, on the 250 Hz grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from readdsp.core import units
from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import CONTROL_NAMES, N_CONTROLS
from readdsp.core.units import Values, amplitude_to_db

DB_RANGE = 80.0
#: Frame period the reference's vibrato analysis assumes (250 Hz grid).
SAMPLING_INTERVAL = 0.004
#: Notes are zero-padded or cut to this many frames before the vibrato and peak-position analysis.
ANALYSIS_LENGTH = 1000
ATTACK_FRAMES = 10
MIN_VIBRATO_NOTE_FRAMES = 50
VIBRATO_RATE_RANGE_HZ = (3.0, 9.0)
MAX_PITCH_DEVIATION = 2.0

_INDEX = {name: i for i, name in enumerate(CONTROL_NAMES)}


#: Brightness is the harmonic centroid over this many harmonics (the reference's K), whatever a model's K.
BRIGHTNESS_HARMONICS = 60


@dataclass(frozen=True)
class ExpressionScale:
    """Where volume and attack put 0 and 1, in dB: the two controls read absolute levels, so they depend on the
    training audio's level. The reference (MIDI-DDSP on URMP) fixes them; a bundle stores the scale its annotations
    used (`from_data` fits one to a corpus), and bundles without one use the reference's."""

    volume_db: tuple[float, float] = (-90.0, -30.0)  # mean harmonic amplitude at volume 0 and at 1
    attack_db: tuple[float, float] = (-105.0, -65.0)  # mean noise level over the first ATTACK_FRAMES at 0 and 1

    def to_dict(self) -> dict:
        return {k: list(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict | None) -> ExpressionScale:
        """The scale stored in a bundle or run (the reference's when absent); a ReaDDSPError if malformed."""
        if not values:
            return cls()
        try:
            scale = cls(**{k: (float(v[0]), float(v[1])) for k, v in values.items()})
        except (AttributeError, TypeError, ValueError, IndexError) as err:
            raise ReaDDSPError(f"malformed expression scale {values!r} ({err})") from None
        for lo, hi in (scale.volume_db, scale.attack_db):
            if not (np.isfinite(lo) and np.isfinite(hi) and -200.0 <= lo < hi <= 40.0):
                raise ReaDDSPError(f"expression scale range ({lo}, {hi}) dB is not increasing within -200..40")
        return scale

    @classmethod
    def from_data(
        cls, volume_db: np.ndarray, attack_db: np.ndarray, low: float = 0.05, high: float = 0.95
    ) -> ExpressionScale:
        """The scale that puts the 1st and 99th percentiles of a corpus's note statistics at `low` and `high`, so
        the generated controls use their range and no note sits at 0 or 1 (the reference's scale put half of a
        FluidSynth corpus above volume 1)."""

        def fitted(values: np.ndarray) -> tuple[float, float]:
            q1, q99 = np.percentile(values[np.isfinite(values)], [1.0, 99.0])
            span = max(float(q99 - q1), 1.0) / (high - low)
            return round(float(q1) - low * span, 2), round(float(q1) - low * span + span, 2)

        return cls(volume_db=fitted(np.asarray(volume_db)), attack_db=fitted(np.asarray(attack_db)))


REFERENCE_SCALE = ExpressionScale()


# The fixed maps from note statistics to controls (same for all instruments). They are plain arithmetic, so they
# serve numpy arrays here and torch tensors in training alike.
def _unit(value: Values, span: tuple[float, float]) -> Values:
    return (value - span[0]) / (span[1] - span[0])


def volume_from_db(mean_amplitude_db: Values, scale: ExpressionScale = REFERENCE_SCALE) -> Values:
    """Mean harmonic amplitude (dB) -> volume (reference: -90 dB -> 0, -30 dB -> 1)."""
    return _unit(mean_amplitude_db, scale.volume_db)


def vol_fluc_from_db(std_amplitude_db: Values) -> Values:
    """Standard deviation of the amplitude (dB) -> vol_fluc."""
    return std_amplitude_db * 2.5 / 60.0


def brightness_from_centroid(mean_weighted_harmonic: Values) -> Values:
    """Mean of sum_k hd_k * k / K -> brightness."""
    return mean_weighted_harmonic * 5.0


def attack_from_db(mean_noise_db: Values, scale: ExpressionScale = REFERENCE_SCALE) -> Values:
    """Mean noise level over the first ATTACK_FRAMES (dB) -> attack (reference: -105 dB -> 0, -65 dB -> 1)."""
    return _unit(mean_noise_db, scale.attack_db)


def hz_to_midi(f0_hz: np.ndarray) -> np.ndarray:
    """DDSP `hz_to_midi`, with 0 for frequencies <= 0."""
    f0 = np.asarray(f0_hz, dtype=np.float64)
    return np.where(f0 <= 0.0, 0.0, units.hz_to_midi(f0))


def frame_features(
    amplitude: np.ndarray, harmonic_distribution: np.ndarray, noise_magnitudes: np.ndarray
) -> dict[str, np.ndarray]:
    """Per-frame `amplitude` (dB), `brightness` (sum_k hd_k * k / 60), `noise_level` (mean band dB), each [T]."""
    hd = np.asarray(harmonic_distribution, dtype=np.float64)
    harmonic_numbers = np.arange(1, hd.shape[-1] + 1)
    return {
        "amplitude": amplitude_to_db(amplitude),
        "brightness": np.sum(hd * harmonic_numbers, axis=-1) / BRIGHTNESS_HARMONICS,
        "noise_level": np.mean(amplitude_to_db(noise_magnitudes), axis=-1),
    }


def _to_analysis_length(values: np.ndarray) -> np.ndarray:
    out = np.zeros(ANALYSIS_LENGTH)
    kept = values[:ANALYSIS_LENGTH]
    out[: kept.size] = kept
    return out


def _tukey_by_position(position: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """The reference's `get_normal_window`: raised cosine over the first/last alpha/2 of relative position."""
    window = 0.5 * (1.0 - np.cos(2.0 * np.pi * position / alpha))
    flat = (position > 0.5 * alpha) & (position < 1.0 - 0.5 * alpha)
    return np.clip(window + flat, 0.0, 1.0)


def vibrato_extent(pitch_deviation: np.ndarray) -> float:
    """Raw vibrato extent of one note (before the x10 scaling); 0 when the reference's rules reject it.

    Pads/cuts to 1000 frames, removes the mean, applies the Tukey(0.5) window by relative position,
    takes |rFFT| / note length and its peak bin. The rate axis is the reference's linspace(0, 250, 1000)
    indexed by rFFT bin (so bin k reads as k*250/999 Hz). Kept if 3 <= rate <= 9 Hz, the (cut) note is
    longer than 50 frames, and the rate exceeds one cycle per note.
    """
    length = min(pitch_deviation.size, ANALYSIS_LENGTH)
    if length == 0:
        return 0.0
    mask = np.zeros(ANALYSIS_LENGTH)
    mask[:length] = 1.0
    deviation = _to_analysis_length(pitch_deviation)
    centred = mask * (deviation - deviation[:length].mean())
    centred *= _tukey_by_position(np.cumsum(mask) * mask / length)
    spectrum = np.abs(np.fft.rfft(centred)) / length
    peak = int(np.argmax(spectrum))
    rate = np.linspace(0.0, int(1 / SAMPLING_INTERVAL), ANALYSIS_LENGTH)[peak]
    rate_min, rate_max = VIBRATO_RATE_RANGE_HZ
    keep = rate_min <= rate <= rate_max and length > MIN_VIBRATO_NOTE_FRAMES
    keep = keep and rate > 1.0 / (length * SAMPLING_INTERVAL)
    return float(spectrum[peak]) if keep else 0.0


def _peak_position(amplitude_db: np.ndarray) -> float:
    """Index of the (first) loudest frame over the note length, both within the first 1000 frames."""
    kept = amplitude_db[:ANALYSIS_LENGTH]
    return float(np.argmax(kept)) / kept.size


def _as_notes(notes: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    table = np.asarray(notes, dtype=np.float64).reshape(-1, 3) if len(notes) else np.zeros((0, 3))
    if table.ndim != 2 or table.shape[1] != 3:
        raise ReaDDSPError(f"notes must be (pitch, onset_frame, offset_frame) rows, got shape {table.shape}")
    return table


def extract_expression(
    f0_hz: np.ndarray,
    amplitude: np.ndarray,
    harmonic_distribution: np.ndarray,
    noise_magnitudes: np.ndarray,
    notes: Sequence[Sequence[float]] | np.ndarray,
    clip: bool = False,
    scale: ExpressionScale = REFERENCE_SCALE,
) -> np.ndarray:
    """Expression controls [n_notes, 6] in CONTROL_NAMES order from 250 Hz synthesis parameters.

    Inputs: `f0_hz` [T]; `amplitude` [T] or [T, 1] linear harmonic amplitude (after the synth's scaling);
    `harmonic_distribution` [T, K] normalised; `noise_magnitudes` [T, B] linear; `notes` rows of
    (MIDI pitch, onset_frame, offset_frame) with an EXCLUSIVE offset (note frames onset..offset-1, i.e.
    the reference's inclusive offset index + 1), clipped to [0, T]. Rests (pitch 0) and notes shorter than
    2 frames (which the reference drops) get all zeros, as the reference gives rests.
    Scaling (reference constants; volume and attack by `scale`): volume = mean dB/60 + 1.5; vol_fluc = std dB *
    2.5/60; vibrato = extent x10; brightness = mean(sum_k hd_k k / 60) x5; attack = mean noise dB over the first
    10 frames /40 + 2.625 (a raw mean of exactly 0 stays 0 for volume and attack); vol_peak_pos = argmax frame /
    note length.
    The reference does not clip extracted values (only generated ones at inference);
    `clip=True` clips to [0, 1].
    """
    f0 = np.asarray(f0_hz, dtype=np.float64).reshape(-1)
    amp = np.asarray(amplitude, dtype=np.float64)
    amp = amp[:, 0] if amp.ndim == 2 and amp.shape[1] == 1 else amp
    hd = np.asarray(harmonic_distribution, dtype=np.float64)
    noise = np.asarray(noise_magnitudes, dtype=np.float64)
    n_frames = f0.size
    if amp.ndim != 1 or hd.ndim != 2 or noise.ndim != 2:
        raise ReaDDSPError("expected f0 [T], amplitude [T], harmonic_distribution [T, K], noise_magnitudes [T, B]")
    if not (amp.size == hd.shape[0] == noise.shape[0] == n_frames):
        raise ReaDDSPError(
            f"frame counts differ: f0 {n_frames}, amplitude {amp.size}, harmonics {hd.shape[0]}, noise {noise.shape[0]}"
        )
    table = _as_notes(notes)
    features = frame_features(amp, hd, noise)
    f0_midi = hz_to_midi(f0)
    out = np.zeros((table.shape[0], N_CONTROLS))
    for row, (pitch, onset, offset) in enumerate(table):
        start, stop = int(max(onset, 0)), int(min(offset, n_frames))
        if pitch <= 0 or stop - start < 2:
            continue
        amp_db = features["amplitude"][start:stop]
        deviation = pitch - f0_midi[start:stop]
        deviation[np.abs(deviation) > MAX_PITCH_DEVIATION] = 0.0
        volume = amp_db.mean()
        attack = features["noise_level"][start : min(stop, start + ATTACK_FRAMES)].mean()
        out[row, _INDEX["volume"]] = 0.0 if volume == 0.0 else volume_from_db(volume, scale)
        out[row, _INDEX["vol_fluc"]] = vol_fluc_from_db(amp_db.std())
        out[row, _INDEX["vibrato"]] = vibrato_extent(deviation) * 10.0
        out[row, _INDEX["brightness"]] = brightness_from_centroid(features["brightness"][start:stop].mean())
        out[row, _INDEX["attack"]] = 0.0 if attack == 0.0 else attack_from_db(attack, scale)
        out[row, _INDEX["vol_peak_pos"]] = _peak_position(amp_db)
    return np.clip(out, 0.0, 1.0) if clip else out
