"""Shared fixtures: a small random-weight instrument bundle, and the location of the developers' shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

INSTRUMENTS = ["violin", "cello", "flute", "clarinet"]


def shared_data() -> Path:
    """`../shared/data` beside the checkout, or $READDSP_SHARED_DATA."""
    return Path(os.environ.get("READDSP_SHARED_DATA", Path(__file__).resolve().parents[1] / "../shared/data"))


def random_bundle_config(sample_rate: int = 16000) -> dict:
    from readdsp.core.models.expression_generator import ExpressionGeneratorConfig
    from readdsp.core.models.synthesis_generator import SynthesisGeneratorConfig

    return {
        "name": "test_random",
        "model": "midi-ddsp",
        "sample_rate": sample_rate,
        "frame_rate": 250,
        "instruments": INSTRUMENTS,
        "synthesis_generator": SynthesisGeneratorConfig().to_dict(),
        "expression_generator": ExpressionGeneratorConfig().to_dict(),
    }


@pytest.fixture(scope="session")
def random_bundle(tmp_path_factory) -> Path:
    """An untrained (seeded) bundle: exercises the whole render path without depending on trained weights."""
    from readdsp.core.bundle import save_bundle
    from readdsp.core.models.midi_ddsp import MidiDDSP

    torch.manual_seed(0)
    model = MidiDDSP(random_bundle_config())
    with torch.no_grad():  # a peaked f0 distribution, like a trained model's, so sampling stays near the note
        model.synthesis_generator.f0_out.bias[100] = 8.0
    path = tmp_path_factory.mktemp("bundle") / "test_random.safetensors"
    return save_bundle(path, model.config, model.bundle_modules())
