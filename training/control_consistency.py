"""Control consistency: the Synthesis Generator's parameters, measured as note controls, must match its input.

The corpus spans only part of each control's [0, 1] range (a soundfont performer plays within habits), so on its own
the generator learns to follow a control only where the data goes. Training rows whose controls are redrawn at random
per note, scored by this loss, teach it to follow each control over the whole range (what the paper's Table 2 sweeps).
Vibrato lives in the sampled f0, which has no gradient: a row whose vibrato is redrawn gets a sung f0 target instead,
a sinusoid of the asked extent around each note's pitch, which the f0 RNN learns to follow with its cross-entropy.
"""

from __future__ import annotations

import torch

from readdsp.core.features.expression import (
    ATTACK_FRAMES,
    BRIGHTNESS_HARMONICS,
    DB_RANGE,
    REFERENCE_SCALE,
    ExpressionScale,
    attack_from_db,
    brightness_from_centroid,
    vol_fluc_from_db,
    volume_from_db,
)
from readdsp.core.note_frames import FRAME_RATE
from readdsp.core.performance import CONTROL_NAMES
from readdsp.core.units import amplitude_to_db, midi_to_hz

MEASURED = ("volume", "vol_fluc", "brightness", "attack", "vol_peak_pos")
REDRAWN = (*MEASURED, "vibrato")
VIBRATO_PER_SEMITONE = 3.75  # the vibrato control that a sinusoidal deviation of 1 semitone amplitude extracts to
VIBRATO_RATE_HZ = (4.5, 6.5)
_COLUMN = {name: CONTROL_NAMES.index(name) for name in CONTROL_NAMES}
_PITCH, _ONSET = 6, 7  # conditioning columns (see NoteFrames.stacked)
PEAK_SOFTNESS_DB = 1.0  # temperature of the soft argmax standing in for vol_peak_pos's argmax


def control_floors(scale: ExpressionScale) -> dict[str, float]:
    """What parameters can express has a floor: the reference's dB floor (-80) puts volume at 1/6 and attack at
    0.625 on the reference scale, and a harmonic distribution all in the fundamental puts brightness at 1/12. A
    fitted scale (see ExpressionScale.from_data) may put the dB floor under 0: then that control has no floor."""
    return {
        "volume": float(volume_from_db(-DB_RANGE, scale)),
        "attack": float(attack_from_db(-DB_RANGE, scale)),
        "brightness": float(brightness_from_centroid(1.0 / BRIGHTNESS_HARMONICS)),
    }


# Below its knee a floored control's target rises linearly from the floor to the knee. Clipping at the floor instead
# would make every input under it ask for the same sound: a dead zone over the lower 62% of the attack knob, where
# the round trip (Table 2) reads a flat line. Above the knee the target is the input itself. The knees sit under
# the corpus's 1% quantile for volume (0.77) and brightness (0.09); attack's data reach down to 0.66, so its knee
# trades a stronger attack on the softest-attacked data notes for a knob that works over its whole range.
KNEE = {"volume": 0.3, "attack": 0.9, "brightness": 0.09}


def note_index(conditioning: torch.Tensor) -> torch.Tensor:
    """[B, T] index of each frame's note within its row, counted from the row's first onset; -1 for rests and for
    notes cut by the row's edges (begun before it or still sounding at its end)."""
    in_note = conditioning[..., _PITCH] > 0
    index = torch.cumsum((conditioning[..., _ONSET] > 0.5).long(), dim=1) - 1
    index = torch.where(in_note, index, torch.full_like(index, -1))
    cut_at_end = torch.where(in_note[:, -1:], index[:, -1:], torch.full_like(index[:, -1:], -2))
    return torch.where(index == cut_at_end, torch.full_like(index, -1), index)


def redraw_controls(
    conditioning: torch.Tensor, f0_hz: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Copies of (conditioning, f0) where each row has one control redrawn uniformly in [0, 1], a value per note,
    and the name of each row's redrawn control.

    A row whose vibrato is redrawn sings it: its f0 becomes each note's pitch plus a sinusoid of that extent.
    """
    cond, f0 = conditioning.clone(), f0_hz.clone()
    n_rows, n_frames = conditioning.shape[:2]
    index = note_index(conditioning).clamp(min=0)
    draws = torch.rand(n_rows, n_frames, generator=generator)
    names = [REDRAWN[int(i)] for i in torch.randint(len(REDRAWN), (n_rows,), generator=generator)]
    in_note = conditioning[..., _PITCH] > 0
    for row, name in enumerate(names):
        column = _COLUMN[name]
        cond[row, :, column] = torch.where(in_note[row], draws[row, index[row]], cond[row, :, column])
        if name == "vibrato":
            f0[row] = torch.where(in_note[row], _sung_f0(cond[row], generator), f0[row])
    return cond, f0, names


def _sung_f0(conditioning: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """[T] f0 in Hz: each note's pitch plus a sinusoidal vibrato of the extent its conditioning asks for."""
    low, high = VIBRATO_RATE_HZ
    rate = low + (high - low) * torch.rand((), generator=generator)
    phase = 2 * torch.pi * torch.rand((), generator=generator)
    time = torch.arange(conditioning.shape[0], dtype=conditioning.dtype) / FRAME_RATE
    depth = conditioning[:, _COLUMN["vibrato"]] / VIBRATO_PER_SEMITONE
    midi = conditioning[:, _PITCH] * 127.0 + depth * torch.sin(2 * torch.pi * rate * time + phase)
    return midi_to_hz(midi)


def floored_db(amplitude: torch.Tensor) -> torch.Tensor:
    """dB floored like the reference's (the value is `amplitude_to_db`'s), with the gradient of the unfloored dB.

    The floor's own gradient is zero: a frame that fell under -80 dB could never be lifted back by the loss, and a
    generator that once undershot a quiet volume or a soft attack stayed on the floor.
    """
    raw = amplitude_to_db(amplitude, floor_db=-240.0)
    return amplitude_to_db(amplitude) + (raw - raw.detach())


def _per_note(values: torch.Tensor, slot: torch.Tensor, n_slots: int) -> torch.Tensor:
    return torch.zeros(n_slots, dtype=values.dtype).index_add(0, slot, values)


def measured_controls(
    conditioning: torch.Tensor,
    amplitude: torch.Tensor,
    harmonic_distribution: torch.Tensor,
    noise: torch.Tensor,
    scale: ExpressionScale = REFERENCE_SCALE,
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(measured, wanted): per complete note, each MEASURED control from the parameters by the reference's formulas
    (a soft argmax for vol_peak_pos), and the control the conditioning asked for."""
    n_rows, n_frames = conditioning.shape[:2]
    index = note_index(conditioning)
    frames = index >= 0
    slot = (torch.arange(n_rows)[:, None] * n_frames + index)[frames]
    n_slots = n_rows * n_frames
    count = _per_note(torch.ones_like(slot, dtype=amplitude.dtype), slot, n_slots)
    notes = count > 0
    count = count.clamp(min=1.0)

    def mean(x: torch.Tensor) -> torch.Tensor:
        return _per_note(x[frames], slot, n_slots) / count

    amp_db = floored_db(amplitude.reshape(n_rows, n_frames))
    harmonic_numbers = torch.arange(1, harmonic_distribution.shape[-1] + 1, dtype=amplitude.dtype)
    brightness = (harmonic_distribution * harmonic_numbers).sum(-1) / BRIGHTNESS_HARMONICS
    noise_level = floored_db(noise).mean(-1)

    time = torch.arange(n_frames, dtype=amplitude.dtype).expand(n_rows, -1)
    start = torch.full((n_slots,), float(n_frames)).scatter_reduce(0, slot, time[frames], "amin")
    offset = time[frames] - start[slot]
    position = offset / count[slot]
    peak = torch.full((n_slots,), -1e4).scatter_reduce(0, slot, amp_db[frames].detach(), "amax")
    weight = torch.exp((amp_db[frames] - peak[slot]) / PEAK_SOFTNESS_DB)
    attack_frames = (offset < ATTACK_FRAMES).to(amplitude.dtype)
    attack_count = _per_note(attack_frames, slot, n_slots).clamp(min=1.0)

    volume_db = mean(amp_db)
    spread = (mean(amp_db**2) - volume_db**2).clamp(min=1e-6).sqrt()
    measured = {
        "volume": volume_from_db(volume_db, scale),
        "vol_fluc": vol_fluc_from_db(spread),
        "brightness": brightness_from_centroid(mean(brightness)),
        "attack": attack_from_db(_per_note(noise_level[frames] * attack_frames, slot, n_slots) / attack_count, scale),
        "vol_peak_pos": _per_note(weight * position, slot, n_slots) / _per_note(weight, slot, n_slots).clamp(1e-8),
    }
    wanted = {name: mean(conditioning[..., _COLUMN[name]]) for name in MEASURED}
    return {k: v[notes] for k, v in measured.items()}, {k: v[notes] for k, v in wanted.items()}


def expressible_target(name: str, wanted: torch.Tensor, scale: ExpressionScale = REFERENCE_SCALE) -> torch.Tensor:
    """The value a control asked for should measure as: itself, except under a floored control's knee (see KNEE).

    No ceiling: the corpus's own controls pass 1 (half its notes are louder than volume 1, -30 dB), and such a note
    should measure as what its data measured.
    """
    wanted = wanted.clamp(min=0.0)
    floor = control_floors(scale).get(name, 0.0)
    if name not in KNEE or floor <= 0.0:
        return wanted
    knee = KNEE[name]
    return torch.where(wanted >= knee, wanted, floor + (knee - floor) * wanted / knee)


def consistency_loss(
    conditioning: torch.Tensor,
    amplitude: torch.Tensor,
    harmonic_distribution: torch.Tensor,
    noise: torch.Tensor,
    names: tuple[str, ...] = MEASURED,
    scale: ExpressionScale = REFERENCE_SCALE,
) -> torch.Tensor:
    """Mean L1 between the controls asked for (as `expressible_target`s) and those measured, over `names`."""
    measured, wanted = measured_controls(conditioning, amplitude, harmonic_distribution, noise, scale)
    if measured["volume"].numel() == 0:
        return amplitude.sum() * 0.0
    terms = [(measured[name] - expressible_target(name, wanted[name], scale)).abs().mean() for name in names]
    return torch.stack(terms).mean()


def redrawn_consistency_loss(
    conditioning: torch.Tensor,
    amplitude: torch.Tensor,
    harmonic_distribution: torch.Tensor,
    noise: torch.Tensor,
    redrawn: list[str],
    scale: ExpressionScale = REFERENCE_SCALE,
) -> torch.Tensor:
    """Consistency of redrawn rows, each scored on its redrawn control alone: the mean over the controls redrawn.

    Scored on all five, a row's redrawn notes would be a small share of each control's mean (one row in six redraws
    a given control), and what only those rows teach (the range the data never visits) would be learnt slowly.
    """
    terms = []
    for name in MEASURED:
        rows = [i for i, picked in enumerate(redrawn) if picked == name]
        if rows:
            args = (t[rows] for t in (conditioning, amplitude, harmonic_distribution, noise))
            terms.append(consistency_loss(*args, names=(name,), scale=scale))
    return torch.stack(terms).mean() if terms else amplitude.sum() * 0.0
