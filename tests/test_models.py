"""The three trainable modules: teacher-forced targets, the compiled f0 loop against torch, expression outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from readdsp.core.models.expression_generator import (
    ExpressionGenerator,
    ExpressionGeneratorConfig,
    gm_velocity_db,
    notes_with_rests,
)
from readdsp.core.models.f0_classes import class_to_f0_residual, f0_residual_to_class
from readdsp.core.models.f0_sampler import sample_f0_packed
from readdsp.core.models.layers import LogMel
from readdsp.core.models.synthesis_generator import SynthesisGenerator, SynthesisGeneratorConfig
from readdsp.core.performance import Note
from readdsp.core.units import midi_to_hz


@pytest.fixture(autouse=True)
def exact_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests compare the compiled loops with torch's float32 modules, so no bfloat16 products."""
    monkeypatch.setenv("READDSP_PRECISION", "float32")


@pytest.fixture(scope="module")
def generator() -> SynthesisGenerator:
    torch.manual_seed(1)
    return SynthesisGenerator(SynthesisGeneratorConfig()).eval()


def test_f0_classes_are_cents_around_the_note() -> None:
    residual = torch.tensor([-1.5, -1.0, -0.25, 0.0, 0.013, 0.5, 1.0, 2.0])
    classes = f0_residual_to_class(residual)
    assert classes.tolist() == [0, 0, 75, 100, 101, 150, 200, 200]
    assert np.allclose(class_to_f0_residual(classes.numpy()), [-1, -1, -0.25, 0, 0.01, 0.5, 1, 1])


def test_teacher_forced_targets_follow_tracked_f0(generator: SynthesisGenerator) -> None:
    base = torch.full((1, 20), 69.0)
    f0 = midi_to_hz(base + 0.3)  # 30 cents sharp of A4
    out = generator(torch.rand(1, 20, 10), torch.tensor([0]), base, f0)
    assert torch.all(out["f0_target"] == 130)
    assert out["f0_logits"].shape[-1] == 201


def sample_rows(generator: SynthesisGenerator, context: torch.Tensor, seed: int, top_p: float) -> torch.Tensor:
    """The compiled sampler over full-length rows [B, T, D] -> classes [B, T]."""
    n_rows, n_frames = context.shape[:2]
    flat = context.reshape(n_rows * n_frames, -1)
    packed = sample_f0_packed(generator, flat, [n_frames] * n_rows, [seed] * n_rows, top_p)
    return torch.from_numpy(packed).reshape(n_rows, n_frames)


def test_compiled_greedy_loop_matches_torch_rollout(generator: SynthesisGenerator) -> None:
    with torch.no_grad():
        z = generator.encode(torch.rand(3, 40, 10), torch.tensor([0, 1, 2]))
        context = generator.f0_context(z)
        classes = sample_rows(generator, context, seed=0, top_p=0.0)
        generator.eval()
        logits = generator.f0_logits_teacher_forced(context, classes)
    # each greedy choice must be the argmax of torch's LSTM given the same previous choices
    assert torch.equal(logits.argmax(-1), classes)


def test_nucleus_sampling_is_seeded_and_stays_in_the_nucleus(generator: SynthesisGenerator) -> None:
    with torch.no_grad():
        generator.f0_out.weight.zero_()
        bias = torch.full((201,), -20.0)
        bias[[95, 100, 105]] = torch.tensor([1.0, 3.0, 1.0])
        generator.f0_out.bias.copy_(bias)
        context = generator.f0_context(generator.encode(torch.rand(2, 400, 10), torch.tensor([0, 0])))
        a = sample_rows(generator, context, seed=5, top_p=0.95)
        b = sample_rows(generator, context, seed=5, top_p=0.95)
        c = sample_rows(generator, context, seed=6, top_p=0.95)
        narrow = sample_rows(generator, context, seed=5, top_p=0.5)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert set(a.unique().tolist()) == {95, 100, 105}
    share = (a == 100).float().mean().item()  # p(100) = e^3 / (e^3 + 2e) ~ 0.79
    assert 0.72 < share < 0.86
    assert set(narrow.unique().tolist()) == {100}


def test_sampler_never_sits_on_the_clamp_classes(generator: SynthesisGenerator) -> None:
    """The +-1 semitone classes hold every clamped residual in training ("a semitone or more away"): even when
    the model favours them most, the sampler draws from the classes inside them."""
    with torch.no_grad():
        generator.f0_out.weight.zero_()
        bias = torch.full((201,), -20.0)
        bias[[0, 200]] = 5.0
        bias[[1, 100, 199]] = torch.tensor([0.0, 2.0, 0.0])
        generator.f0_out.bias.copy_(bias)
        context = generator.f0_context(generator.encode(torch.rand(2, 300, 10), torch.tensor([0, 1])))
        sampled = sample_rows(generator, context, seed=3, top_p=0.95)
        greedy = sample_rows(generator, context, seed=3, top_p=0.0)
    assert set(sampled.unique().tolist()) <= {1, 100, 199} and (sampled == 100).any()
    assert set(greedy.unique().tolist()) == {100}


def test_notes_with_rests_inserts_gaps_and_a_final_rest() -> None:
    notes = [Note(60, 0.5, 1.0, 80), Note(62, 1.0, 1.5, 90), Note(64, 2.0, 2.25, 100)]
    seq = notes_with_rests(notes)
    assert seq["pitch"].tolist() == [0, 60, 62, 0, 64, 0]
    assert np.allclose(seq["length_s"], [0.5, 0.5, 0.5, 0.5, 0.25, 1.0])
    assert seq["index"].tolist() == [-1, 0, 1, -1, 2, -1]
    assert seq["velocity"].tolist() == [0, 80, 90, 0, 100, 0]


def test_velocity_enters_through_the_general_midi_curve() -> None:
    db = gm_velocity_db(torch.tensor([127.0, 64.0, 20.0, 0.0]))
    torch.testing.assert_close(db, 40.0 * torch.log10(torch.tensor([1.0, 64 / 127, 20 / 127, 1 / 127])))
    # the curve is a third scalar beside length and v/127; without it the generator reads the two of old
    for velocity_db, width in ((True, 3), (False, 2)):
        model = ExpressionGenerator(ExpressionGeneratorConfig(velocity_db=velocity_db))
        assert model.length.in_features == width


def test_a_bundle_made_before_the_velocity_curve_loads_without_it() -> None:
    from readdsp.core.models.midi_ddsp import MidiDDSP

    old = ExpressionGeneratorConfig(velocity_db=False).to_dict()
    del old["velocity_db"]
    config = {
        "instruments": ["violin"],
        "sample_rate": 16000,
        "expression_generator": old,
        "synthesis_generator": SynthesisGeneratorConfig().to_dict(),
    }
    assert MidiDDSP(config).expression_generator.length.in_features == 2
    config["expression_generator"] = ExpressionGeneratorConfig().to_dict()
    assert MidiDDSP(config).expression_generator.length.in_features == 3


def test_expression_generator_numpy_context_matches_the_torch_bigru_on_padded_rows() -> None:
    torch.manual_seed(1)
    model = ExpressionGenerator(ExpressionGeneratorConfig()).eval()
    seqs = [notes_with_rests([Note(50 + i % 17, i * 0.3, i * 0.3 + 0.25, 30 + i) for i in range(n)]) for n in (9, 2, 5)]
    lengths = torch.tensor([len(seq["pitch"]) for seq in seqs])
    inputs = [
        torch.nn.utils.rnn.pad_sequence([torch.from_numpy(seq[key]) for seq in seqs], batch_first=True)
        for key in ("pitch", "length_s", "velocity")
    ]
    with torch.no_grad():
        reference = model.context(*inputs, torch.tensor([0, 3, 5]), lengths)
    stepped = model.inference_context(*inputs, torch.tensor([0, 3, 5]), lengths)
    assert float(reference.abs().mean()) > 0.05
    torch.testing.assert_close(torch.from_numpy(stepped), reference, atol=2e-6, rtol=1e-5)


def test_expression_generator_inference_loop_matches_its_teacher_forced_pass() -> None:
    """The numpy note loop computes what the torch modules do: fed its own outputs as the previous notes'
    controls, the teacher-forced `forward` reproduces every step."""
    torch.manual_seed(0)
    model = ExpressionGenerator(ExpressionGeneratorConfig()).eval()
    last = model.out.net[-1]  # centred in [0, 1], so the clip keeps most outputs and every step feeds the next
    torch.nn.init.normal_(last.weight, std=0.02)
    torch.nn.init.constant_(last.bias, 0.5)
    torch.nn.init.normal_(model.velocity_slope.weight, std=0.2)  # the velocity skip is in the loop too
    seq = notes_with_rests([Note(55 + 3 * i, i * 0.4, i * 0.4 + 0.4, 40 + 8 * i) for i in range(12)])
    inputs = [torch.from_numpy(seq[key])[None] for key in ("pitch", "length_s", "velocity")]
    generated = model.generate(*inputs, torch.tensor([2]))
    assert 0.05 < float(generated[generated > 0].mean()) < 0.95 and float((generated == 0).float().mean()) < 0.5
    with torch.no_grad():
        forced = model(*inputs, torch.tensor([2]), generated).clamp(0.0, 1.0)
    torch.testing.assert_close(generated, forced, atol=2e-5, rtol=1e-4)


def test_expression_generator_outputs_controls_in_range_and_zero_on_rests() -> None:
    torch.manual_seed(0)
    model = ExpressionGenerator(ExpressionGeneratorConfig()).eval()
    seq = notes_with_rests([Note(60 + i, i * 0.6, i * 0.6 + 0.4, 100) for i in range(10)])
    out = model.generate(
        torch.from_numpy(seq["pitch"])[None],
        torch.from_numpy(seq["length_s"])[None],
        torch.from_numpy(seq["velocity"])[None],
        torch.tensor([1]),
    )[0]
    assert out.shape == (len(seq["pitch"]), 6)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert torch.all(out[torch.from_numpy(seq["pitch"]) == 0] == 0)


def test_expression_generator_batch_gives_each_row_its_own_output() -> None:
    torch.manual_seed(0)
    model = ExpressionGenerator(ExpressionGeneratorConfig()).eval()
    seqs = [notes_with_rests([Note(60 + i, i * 0.5, i * 0.5 + 0.3, 90) for i in range(n)]) for n in (12, 3, 7)]
    lengths = torch.tensor([len(seq["pitch"]) for seq in seqs])

    def padded(key: str) -> torch.Tensor:
        return torch.nn.utils.rnn.pad_sequence([torch.from_numpy(seq[key]) for seq in seqs], batch_first=True)

    together = model.generate(padded("pitch"), padded("length_s"), padded("velocity"), torch.tensor([0, 1, 2]), lengths)
    for row, seq in enumerate(seqs):
        alone = model.generate(
            *(torch.from_numpy(seq[key])[None] for key in ("pitch", "length_s", "velocity")), torch.tensor([row])
        )[0]
        torch.testing.assert_close(together[row, : len(alone)], alone, atol=1e-5, rtol=1e-5)


def test_compiled_bilstm_matches_torch_on_packed_rows(generator: SynthesisGenerator) -> None:
    lengths = torch.tensor([70, 150, 3, 1, 90])
    z = torch.randn(len(lengths), int(lengths.max()), 160)
    mask = torch.arange(z.shape[1])[None] < lengths[:, None]
    with torch.no_grad():
        expected = torch.cat([generator.f0_context(z[i : i + 1, :n])[0] for i, n in enumerate(lengths.tolist())])
        got = generator.f0_context_packed(z[mask], lengths)
    assert torch.allclose(got, expected, atol=1e-5)


def test_packed_conv_stack_keeps_rows_apart_and_matches_the_batched_stack(generator: SynthesisGenerator) -> None:
    stack = generator.params
    lengths = torch.tensor([300, 180, 400])
    x = torch.randn(int(lengths.sum()), stack.inp.in_features)
    with torch.no_grad():
        packed = torch.split(stack.infer_packed(x, lengths), lengths.tolist())
        rows = torch.split(x, lengths.tolist())
        for row, out in zip(rows, packed, strict=True):
            alone = stack.infer_packed(row, torch.tensor([len(row)]))
            assert torch.equal(alone, out)  # no other row changes a row's output
            reach = stack.reach
            batched = stack(row[None])[0]  # the training path; edges differ only within `reach` of the ends
            assert torch.allclose(out[reach:-reach], batched[reach:-reach], atol=1e-4)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_generated_rows_do_not_depend_on_their_batch_mates(
    generator: SynthesisGenerator, monkeypatch: pytest.MonkeyPatch, precision: str
) -> None:
    monkeypatch.setenv("READDSP_PRECISION", precision)
    torch.manual_seed(3)
    cond = torch.rand(3, 120, 10)
    base = torch.full((3, 120), 64.0)
    lengths = torch.tensor([120, 40, 75])
    together = generator.generate(cond, torch.tensor([0, 1, 2]), base, seed=[7, 8, 9], lengths=lengths)
    alone = generator.generate(cond[1:2, :40], torch.tensor([1]), base[1:2, :40], seed=[8])
    for key in ("f0_classes", "amplitude", "harmonics", "noise"):
        assert torch.equal(together[key][1, :40], alone[key][0]), key
    assert torch.all(together["amplitude"][1, 40:] == 0)  # past the row's end


def test_precision_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from readdsp.core.errors import ReaDDSPError
    from readdsp.core.models.precision import inference_dtype

    monkeypatch.setenv("READDSP_PRECISION", "float32")
    assert inference_dtype() == torch.float32
    monkeypatch.setenv("READDSP_PRECISION", "float16")
    with pytest.raises(ReaDDSPError, match="READDSP_PRECISION must be auto, float32 or bfloat16, not 'float16'"):
        inference_dtype()


def test_bfloat16_asked_for_without_its_instructions_is_named_emulated_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from readdsp.core.models import precision

    assert precision.bfloat16_instructions("flags : fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile") == [
        "avx512_bf16",
        "amx_bf16",
    ]
    assert precision.bfloat16_instructions("flags : fpu avx2 fma") == []
    monkeypatch.setattr(precision, "cpuinfo", lambda: "processor : 0\nflags : fpu avx2 fma\n")
    precision._warn_if_emulated.cache_clear()
    monkeypatch.setenv("READDSP_PRECISION", "bfloat16")
    with caplog.at_level("WARNING", logger="readdsp.core.models.precision"):
        assert precision.inference_dtype() == torch.bfloat16  # still what was asked for
        precision.inference_dtype()
    warnings = [r.getMessage() for r in caplog.records if "emulated" in r.getMessage()]
    assert len(warnings) == 1 and "no bfloat16 instructions" in warnings[0]
    precision._warn_if_emulated.cache_clear()


def test_compiled_tanh_is_accurate_everywhere() -> None:
    import numba

    from readdsp.core.kernels.lstm_lanes import _tanh

    @numba.njit
    def apply(x: np.ndarray) -> np.ndarray:
        return np.array([_tanh(v) for v in x], np.float32)

    x = np.concatenate([np.linspace(-30, 30, 200001), [0.0, 1e-8, -1e-8]]).astype(np.float32)
    assert np.max(np.abs(apply(x) - np.tanh(x.astype(np.float64)))) < 5e-7


def test_log_mel_takes_a_chunk_shorter_than_its_window() -> None:
    mel = LogMel(24000)
    tone = torch.sin(2 * torch.pi * 440.0 * torch.arange(24000) / 24000)[None]
    short = mel(tone[:, :192], 2)  # the last 2 frames of an example, as `annotate` cuts it
    assert short.shape == (1, 2, 64) and torch.isfinite(short).all()
    torch.testing.assert_close(short[0, 0], mel(tone[:, :2400], 25)[0, 0], atol=2.0, rtol=0.0)
