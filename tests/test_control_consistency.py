"""Control consistency: differentiable note controls that agree with the reference extraction, and redrawn rows."""

from __future__ import annotations

import numpy as np
import torch

from readdsp.core.features import extract_expression
from readdsp.core.features.expression import attack_from_db
from readdsp.core.note_frames import note_spans, notes_to_frames
from readdsp.core.performance import CONTROL_NAMES, Note
from readdsp.training.control_consistency import (
    KNEE,
    REDRAWN,
    consistency_loss,
    expressible_target,
    floored_db,
    measured_controls,
    note_index,
    redraw_controls,
    redrawn_consistency_loss,
)

N_FRAMES = 400
NOTES = [Note(60 + i, 0.1 + 0.3 * i, 0.35 + 0.3 * i, 90) for i in range(3)] + [Note(63, 1.0, 2.0, 90)]  # past the end


def conditioning() -> torch.Tensor:
    return torch.from_numpy(notes_to_frames(NOTES, N_FRAMES).stacked())[None]


def random_params(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    amplitude = torch.exp(torch.randn(1, N_FRAMES, generator=g) - 4.0)
    distribution = torch.softmax(torch.randn(1, N_FRAMES, 60, generator=g), -1)
    noise = torch.exp(2.0 * torch.randn(1, N_FRAMES, 65, generator=g) - 8.0)
    return amplitude, distribution, noise


def test_notes_cut_by_the_row_end_are_left_out() -> None:
    index = note_index(conditioning())[0]
    spans = note_spans(NOTES, N_FRAMES)
    assert (index[spans[0][0] : spans[0][1]] == 0).all() and (index[spans[2][0] : spans[2][1]] == 2).all()
    assert (index[spans[3][0] :] == -1).all() and (index[: spans[0][0]] == -1).all()


def test_measured_controls_match_the_reference_extraction() -> None:
    amplitude, distribution, noise = random_params()
    measured, _ = measured_controls(conditioning(), amplitude, distribution, noise)
    rows = [(n.pitch, s, e) for n, (s, e) in zip(NOTES[:3], note_spans(NOTES, N_FRAMES)[:3], strict=True)]
    reference = extract_expression(np.full(N_FRAMES, 262.0), amplitude[0], distribution[0], noise[0], rows)
    for name in ("volume", "vol_fluc", "brightness", "attack"):
        np.testing.assert_allclose(measured[name].numpy(), reference[:, CONTROL_NAMES.index(name)], atol=1e-4)


def test_soft_peak_position_finds_a_smooth_swell() -> None:
    amplitude, distribution, noise = random_params()
    spans = note_spans(NOTES, N_FRAMES)
    smooth = torch.full((1, N_FRAMES), 1e-3)
    for start, end in spans[:3]:
        u = torch.linspace(0.0, 1.0, end - start)
        smooth[0, start:end] = 10 ** ((-30.0 - 20.0 * (u - 0.7).abs()) / 20.0)  # peaks 70% into the note
    measured, _ = measured_controls(conditioning(), smooth, distribution, noise)
    rows = [(n.pitch, s, e) for n, (s, e) in zip(NOTES[:3], spans[:3], strict=True)]
    reference = extract_expression(np.full(N_FRAMES, 262.0), smooth[0], distribution[0], noise[0], rows)[:, 5]
    np.testing.assert_allclose(measured["vol_peak_pos"].numpy(), reference, atol=0.02)
    np.testing.assert_allclose(reference, 0.7, atol=0.02)


def test_redrawn_rows_change_one_control_inside_notes_only() -> None:
    cond = conditioning().repeat(12, 1, 1)
    f0 = torch.full(cond.shape[:2], 262.0)
    redrawn, _, names = redraw_controls(cond, f0, torch.Generator().manual_seed(0))
    changed = (redrawn != cond).any(dim=1)  # [rows, columns]
    assert (changed.sum(dim=1) == 1).all()
    assert [int(torch.nonzero(row)[0]) for row in changed] == [CONTROL_NAMES.index(name) for name in names]
    assert set(names) <= set(REDRAWN)
    assert (redrawn[cond[..., 6] == 0] == cond[cond[..., 6] == 0]).all()  # rests untouched


def test_a_redrawn_vibrato_is_sung_at_the_asked_extent() -> None:
    long_notes = [Note(60 + i, 0.1 + 0.5 * i, 0.55 + 0.5 * i, 90) for i in range(3)]  # 0.45 s: two cycles or more
    cond = torch.from_numpy(notes_to_frames(long_notes, N_FRAMES).stacked())[None].repeat(16, 1, 1)
    redrawn, f0, _ = redraw_controls(cond, torch.full(cond.shape[:2], 262.0), torch.Generator().manual_seed(1))
    column = CONTROL_NAMES.index("vibrato")
    rows = [r for r in range(16) if (redrawn[r, :, column] != cond[r, :, column]).any()]
    assert rows
    spans = note_spans(long_notes, N_FRAMES)
    notes = [(n.pitch, s, e) for n, (s, e) in zip(long_notes, spans, strict=True)]
    for r in rows:
        ones = np.ones(N_FRAMES)
        extracted = extract_expression(f0[r].numpy(), ones, np.ones((N_FRAMES, 60)) / 60, ones[:, None], notes)
        asked = [float(redrawn[r, s, column]) for _, s, _ in notes]
        np.testing.assert_allclose(extracted[:, column], asked, atol=0.08)


def test_consistency_loss_pulls_parameters_towards_the_asked_controls() -> None:
    cond = conditioning()
    cond[..., CONTROL_NAMES.index("volume")] = torch.where(cond[..., 6] > 0, 0.5, 0.0)  # -60 dB asked
    raw = torch.full((1, N_FRAMES), -4.0, requires_grad=True)  # ~-35 dB given
    _, distribution, noise = random_params()
    before = consistency_loss(cond, torch.exp(raw), distribution, noise)
    before.backward()
    assert raw.grad[0, :20].abs().sum() == 0  # frames outside notes get no gradient
    with torch.no_grad():
        raw -= 1.0 * raw.grad / raw.grad.abs().max()
    assert consistency_loss(cond, torch.exp(raw), distribution, noise) < before


def test_targets_below_a_floor_still_follow_the_input() -> None:
    asked = torch.linspace(0.0, 1.0, 101)
    for name in ("volume", "attack", "brightness"):
        target = expressible_target(name, asked)
        assert (target.diff() > 0).all(), name  # no dead zone: every step of the knob moves the target
        assert abs(float(target[0]) - float(expressible_target(name, torch.tensor(-1.0)))) < 1e-7
        above = asked >= KNEE[name]
        torch.testing.assert_close(target[above], asked[above])
    params = torch.full((1, 1), -80.0)  # noise at the dB floor measures as attack 0.625 ...
    floor = float(attack_from_db(params))
    assert abs(float(expressible_target("attack", torch.tensor(0.0))) - floor) < 1e-6  # ... which attack 0 asks for
    torch.testing.assert_close(expressible_target("vibrato", asked), asked)
    loud = torch.tensor([1.2])  # a corpus note louder than -30 dB asks for itself
    torch.testing.assert_close(expressible_target("volume", loud), loud)


def test_a_redrawn_row_is_scored_on_its_redrawn_control_alone() -> None:
    cond = conditioning().repeat(2, 1, 1)
    amplitude, distribution, noise = (t.repeat(2, *[1] * (t.dim() - 1)).requires_grad_(True) for t in random_params())

    def grads(redrawn: list[str]) -> list[torch.Tensor]:
        loss = redrawn_consistency_loss(cond, amplitude, distribution, noise, redrawn)
        found = torch.autograd.grad(loss, [amplitude, noise], allow_unused=True)
        return [torch.zeros_like(t) if g is None else g for g, t in zip(found, (amplitude, noise), strict=True)]

    amplitude_grad, noise_grad = grads(["attack", "vibrato"])
    assert amplitude_grad.abs().sum() == 0  # attack is measured from the noise alone; vibrato is no measured control
    assert noise_grad[0].abs().sum() > 0 and noise_grad[1].abs().sum() == 0  # only the attack row
    amplitude_grad, noise_grad = grads(["volume", "volume"])
    assert amplitude_grad[0].abs().sum() > 0 and amplitude_grad[1].abs().sum() > 0 and noise_grad.abs().sum() == 0


def test_floored_db_lifts_what_fell_under_the_floor() -> None:
    amplitude = torch.tensor([1e-6, 1e-2], requires_grad=True)  # -120 dB and -40 dB
    value = floored_db(amplitude)
    torch.testing.assert_close(value.detach(), torch.tensor([-80.0, -40.0]))
    value.sum().backward()
    assert (amplitude.grad > 0).all()  # the -120 dB frame still learns that rising moves it towards the floor
