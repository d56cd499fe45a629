"""Networks at a frame stride: strided frames of packed rows, flags kept, outputs interpolated back per row."""

from __future__ import annotations

import pytest
import torch

from readdsp.core.models.frame_stride import pool_padded_conditioning, spread_padded, strided_rows
from readdsp.core.models.synthesis_generator import SynthesisGenerator, SynthesisGeneratorConfig
from readdsp.core.units import hz_to_midi


def test_spread_interpolates_within_each_row_and_holds_the_last_frame() -> None:
    layout = strided_rows(torch.tensor([5, 4, 1]), 2)
    assert layout.strided_lengths.tolist() == [3, 2, 1]
    assert layout.first.tolist() == [0, 2, 4, 5, 7, 9]
    strided = torch.tensor([0.0, 2.0, 4.0, 10.0, 12.0, 20.0])
    # row 1's last frame (3) lies past its last strided frame (2): held, never read from row 2
    assert layout.spread(strided).tolist() == [0, 1, 2, 3, 4, 10, 11, 12, 12, 20]


def test_pooling_keeps_one_frame_flags_and_stays_inside_the_row() -> None:
    conditioning = torch.zeros(6, 10)
    conditioning[:, 6] = torch.arange(6.0)  # pitch channel: each stride's first frame is kept
    conditioning[1, 7] = 1.0  # an onset on an odd frame of row 0
    conditioning[3, 7] = 1.0  # row 1's onset on its first frame
    conditioning[5, 8] = 1.0  # an offset on row 1's odd frame
    layout = strided_rows(torch.tensor([3, 3]), 2)
    pooled = layout.pool_conditioning(conditioning)
    assert pooled[:, 6].tolist() == [0, 2, 3, 5]
    assert pooled[:, 7].tolist() == [1, 0, 1, 0]  # row 0's frame 2 does not take row 1's onset at frame 3
    assert pooled[:, 8].tolist() == [0, 0, 0, 1]


def test_stride_one_is_the_identity() -> None:
    values = torch.rand(7, 3)
    layout = strided_rows(torch.tensor([4, 3]), 1)
    conditioning = torch.rand(7, 10)
    assert torch.equal(layout.pool_conditioning(conditioning), conditioning)
    assert torch.equal(layout.spread(values), values)


def test_padded_helpers_match_packed_rows() -> None:
    conditioning = torch.rand(2, 7, 10)
    pooled = pool_padded_conditioning(conditioning, 2)
    assert pooled.shape == (2, 4, 10)
    assert torch.equal(pooled[:, :, :7], conditioning[:, ::2, :7])
    spread = spread_padded(pooled, 7, 2)
    assert spread.shape == (2, 7, 10)
    assert torch.allclose(spread[:, 1], (pooled[:, 0] + pooled[:, 1]) / 2)


@pytest.fixture(autouse=True)
def exact_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READDSP_PRECISION", "float32")


def test_strided_generator_gives_every_frame_and_pitch_steps_on_its_frame() -> None:
    torch.manual_seed(0)
    generator = SynthesisGenerator(SynthesisGeneratorConfig(frame_stride=2)).eval()
    n_frames = 41
    base = torch.full((1, n_frames), 60.0)
    base[:, 21:] = 67.0  # the next note starts on an odd frame, inside a stride
    conditioning = torch.rand(1, n_frames, 10)
    out = generator.generate(conditioning, torch.tensor([0]), base, seed=3)
    assert out["amplitude"].shape == (1, n_frames, 1)
    assert out["harmonics"].shape == (1, n_frames, 100)
    cents_off = (hz_to_midi(out["f0_hz"]) - base).abs()
    assert float(cents_off.max()) <= 1.0 + 1e-4  # residuals stay within the +-1 semitone classes
    assert float(hz_to_midi(out["f0_hz"][0, 21])) > 65.0 > float(hz_to_midi(out["f0_hz"][0, 20]))


def test_teacher_forced_pass_scores_f0_per_strided_frame() -> None:
    generator = SynthesisGenerator(SynthesisGeneratorConfig(frame_stride=2))
    base = torch.full((2, 25), 69.0)
    out = generator(torch.rand(2, 25, 10), torch.tensor([0, 1]), base, torch.full((2, 25), 440.0))
    assert out["f0_logits"].shape == (2, 13, 201)
    assert out["f0_target"].shape == (2, 13)
    assert out["amplitude"].shape == (2, 25, 1) and out["z"].shape[:2] == (2, 25)
