"""Renders to measure against: one-part performances, FluidSynth renders of them, and a bundle's source soundfont."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from readdsp.core.midi_io import write_midi
from readdsp.core.performance import Note, Part, Performance
from readdsp.core.programs import INSTRUMENTS
from readdsp.core.render import Renderer
from readdsp.datasets.fluidsynth import render_midi, resolve_soundfont


def one_part(notes: list[Note], program: int, instrument: str | None = None) -> Performance:
    """A one-part performance; `instrument` None lets the renderer's program mapping choose."""
    return Performance([Part(instrument or "part", program, instrument=instrument, notes=list(notes))])


def program_of(instrument: str) -> int:
    return INSTRUMENTS[instrument].program


def soundfont_render(performance: Performance, soundfont: str | Path, sample_rate: int) -> np.ndarray:
    """FluidSynth's dry render (reverb and chorus off) of a performance, `soundfont` a name or a path."""
    with tempfile.TemporaryDirectory(prefix="readdsp-eval-") as tmp:
        midi = write_midi(performance, Path(tmp) / "notes.mid")
        return render_midi(midi, resolve_soundfont(str(soundfont)), sample_rate, performance.duration)


def ours_render(renderer: Renderer, performance: Performance, sample_rate: int, seed: int = 0) -> np.ndarray:
    """Our dry render (the renderer's calibrated levels apply)."""
    return renderer.render(performance, sample_rate=sample_rate, seed=seed).mix


def source_soundfont(config: dict) -> str:
    """The soundfont a bundle's training data was rendered with (FluidR3_GM when the config does not say)."""
    return str(config.get("data", {}).get("soundfont") or "fluidr3")


def soundfont_label(soundfont: str | Path) -> str:
    name = Path(str(soundfont)).stem
    return {"fluidr3": "FluidR3_GM", "musescore": "MuseScore_General"}.get(name.lower(), name)
