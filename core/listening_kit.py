"""A blind listening kit: one piece rendered three ways (the seed paper's conditions) under neutral names + a key."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from readdsp.core.atomic import write_json
from readdsp.core.audio_out import write_audio
from readdsp.core.humanize import humanize
from readdsp.core.performance import Performance
from readdsp.core.performance_model import PerformanceModel

if TYPE_CHECKING:
    from readdsp.core.render import PerformanceRenderer

CONDITIONS = {
    "flat": "constant velocity (the part's mean) and the written durations",
    "learned_velocity": "learned velocities, written durations",
    "learned_velocity_duration": "learned velocities and durations",
}


def flat(performance: Performance) -> Performance:
    """Every tonal part at one velocity (its mean), durations as written."""
    out = performance.copy()
    for part in out.parts:
        if part.notes and not part.is_drum:
            level = int(round(np.mean([n.velocity for n in part.notes])))
            for note in part.notes:
                note.velocity = level
    return out


def write_listening_kit(
    performance: Performance,
    folder: Path,
    seed: int = 0,
    sample_rate: int = 48000,
    renderer: PerformanceRenderer | None = None,
    model: PerformanceModel | None = None,
) -> Path:
    """Render the three conditions through `renderer` (default: the bundled instrument) as take_1..3.wav in a seeded
    random order, and write answer_key.json (keep it from the listeners). `model` defaults to the bundled
    performance model."""
    from readdsp.core.render import Renderer

    base = flat(performance)
    versions = {
        "flat": base,
        "learned_velocity": humanize(base, seed=seed, model=model, durations=False),
        "learned_velocity_duration": humanize(base, seed=seed, model=model),
    }
    renderer = renderer or Renderer.load()
    folder.mkdir(parents=True, exist_ok=True)
    order = np.random.default_rng(seed).permutation(len(versions))
    names = list(versions)
    key = {}
    for take, index in enumerate(order, start=1):
        condition = names[index]
        result = renderer.render(versions[condition], sample_rate=sample_rate, seed=seed)
        write_audio(folder / f"take_{take}.wav", result.mix, result.sample_rate)
        key[f"take_{take}.wav"] = {"condition": condition, "description": CONDITIONS[condition]}
    return write_json(folder / "answer_key.json", key)
