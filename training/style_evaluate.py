"""Measure a style-DDSP bundle for its model card: style CC sweep (an openness proxy), velocity vs loudness, audio
checks, and the spectral distance to real guitar notes beside the soundfont's.

- Openness proxy: the high-band energy ratio, 10 log10(E above 2 kHz / E total), over the frames within 50 dB of
  the loudest. It separates the muted (GM 28) and open (GM 26) training programs; the same proxy is reported on the
  training audio against each example's CC55.
- CC sweep: every held-out (validation and test) phrase is rendered with the CC held at 0, 16, ..., 127; r is
  Pearson's between CC value and proxy, per phrase (the median is reported) and pooled over all renders.
- Velocity: isolated 0.6-s notes over the guitar's range, velocities 20..127, both CC55 extremes; r between
  velocity and the note's peak A-weighted loudness, for ours and for FluidSynth on the training programs.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import soundfile as sf

from readdsp.core.features import a_weighted_loudness
from readdsp.core.performance import Note, Part, Performance
from readdsp.core.render import Renderer
from readdsp.core.resample import resample
from readdsp.datasets.cache import open_dataset

HIGH_BAND_HZ = 2000.0
SWEEP = (0, 16, 32, 48, 64, 80, 96, 112, 127)
VELOCITIES = (20, 40, 60, 80, 100, 127)
PITCHES = (40, 45, 50, 55, 60, 64, 69, 74)
NOTE_NAMES = {"C": 0, "Cs": 1, "D": 2, "Ds": 3, "E": 4, "F": 5, "Fs": 6, "G": 7, "Gs": 8, "A": 9, "As": 10, "B": 11}


def openness_proxy(audio: np.ndarray, sample_rate: int) -> float:
    """High-band energy ratio (dB) over the active frames."""
    n_fft, hop = 1024, 256
    if len(audio) < n_fft:
        return float("nan")
    frames = np.lib.stride_tricks.sliding_window_view(audio.astype(np.float64), n_fft)[::hop] * np.hanning(n_fft)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    total = power.sum(axis=1)
    active = total >= total.max() * 1e-5
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    high = power[active][:, freqs >= HIGH_BAND_HZ].sum()
    return float(10 * np.log10(max(high, 1e-20) / max(total[active].sum(), 1e-20)))


def _r(x, y) -> float | None:
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3 or x[keep].std() == 0 or y[keep].std() == 0:
        return None
    return round(float(np.corrcoef(x[keep], y[keep])[0, 1]), 4)


def _render(renderer: Renderer, notes: list[Note], cc: dict, sample_rate: int, instrument: str) -> np.ndarray:
    part = Part("eval", 25, notes=notes, cc=cc)
    return renderer.render(Performance([part]), sample_rate, instrument=instrument, seed=0).mix


def cc_sweep(renderer: Renderer, dataset_dir: Path, controller: int, instrument: str, max_phrases: int = 12) -> dict:
    """The proxy of held-out phrases rendered at each swept CC value; r per phrase and pooled."""
    data = open_dataset(dataset_dir)
    examples = [e for split in ("test", "validation") for e in data.iter_examples(split)][:max_phrases]
    sr = renderer.model_sample_rate
    per_phrase, pooled_x, pooled_y = [], [], []
    for example in examples:
        values = [
            openness_proxy(_render(renderer, example.note_list(), {controller: [(0.0, v)]}, sr, instrument), sr)
            for v in SWEEP
        ]
        per_phrase.append(_r(SWEEP, values))
        pooled_x += list(SWEEP)
        pooled_y += values
    rs = [r for r in per_phrase if r is not None]
    return {
        "phrases": len(examples),
        "values": list(SWEEP),
        "median_r_per_phrase": round(float(np.median(rs)), 4) if rs else None,
        "min_r_per_phrase": round(float(np.min(rs)), 4) if rs else None,
        "pooled_r": _r(pooled_x, pooled_y),
        "proxy_at_0_db": round(float(np.nanmean(pooled_y[0 :: len(SWEEP)])), 2) if pooled_y else None,
        "proxy_at_127_db": round(float(np.nanmean(pooled_y[len(SWEEP) - 1 :: len(SWEEP)])), 2) if pooled_y else None,
    }


def training_proxy(dataset_dir: Path, controller: int) -> dict:
    """The proxy on the training audio against each example's time-weighted CC value (its notes' spans)."""
    data = open_dataset(dataset_dir)
    xs, ys = [], []
    for example in data.iter_examples("train"):
        lane = example.cc.get(controller)
        if lane is None or not len(example.notes):
            continue
        onsets = example.notes[:, 1]
        idx = np.searchsorted(lane[:, 0], onsets, side="right") - 1
        values = np.where(idx >= 0, lane[np.maximum(idx, 0), 1], np.nan)
        xs.append(float(np.nanmean(values)))
        ys.append(openness_proxy(example.audio, example.sample_rate))
    xs_a, ys_a = np.array(xs), np.array(ys)
    return {
        "examples": len(xs),
        "r": _r(xs_a, ys_a),
        "proxy_all_closed_db": round(float(np.nanmean(ys_a[xs_a <= 0.5])), 2) if (xs_a <= 0.5).any() else None,
        "proxy_all_open_db": round(float(np.nanmean(ys_a[xs_a >= 126.5])), 2) if (xs_a >= 126.5).any() else None,
    }


def _peak_loudness(audio: np.ndarray, sample_rate: int) -> float:
    rate = 24000 if sample_rate % 250 else sample_rate
    audio = resample(audio, sample_rate, rate) if rate != sample_rate else audio
    return float(np.max(a_weighted_loudness(np.asarray(audio, np.float32), rate, 250)))


def velocity_response(renderer: Renderer, instrument: str, controller: int, programs: dict[int, int]) -> dict:
    """r(velocity, peak loudness) over isolated notes, ours and FluidSynth's (`programs`: CC value -> GM program)."""
    from readdsp.core.midi_io import write_midi
    from readdsp.datasets.fluidsynth import render_midi, resolve_soundfont

    sr = renderer.model_sample_rate
    soundfont = resolve_soundfont("musescore")
    ours, theirs, vels = [], [], []
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for cc_value, program in programs.items():
            for pitch in PITCHES:
                for velocity in VELOCITIES:
                    note = [Note(pitch, 0.05, 0.65, velocity)]
                    ours.append(
                        _peak_loudness(_render(renderer, note, {controller: [(0.0, cc_value)]}, sr, instrument), sr)
                    )
                    path = write_midi(Performance([Part("ref", program, notes=note)]), Path(tmp) / "n.mid")
                    theirs.append(_peak_loudness(render_midi(path, soundfont, sr, 0.65), sr))
                    vels.append(velocity)
    return {
        "notes": len(vels),
        "r_ours": _r(vels, ours),
        "r_soundfont": _r(vels, theirs),
        "loudness_range_db_ours": round(float(np.ptp(ours)), 2),
        "loudness_range_db_soundfont": round(float(np.ptp(theirs)), 2),
    }


def audio_check_line(renderer: Renderer, instrument: str, controller: int) -> dict:
    """Pitch per note, onsets, release and levels of a monophonic test line (training/audio_measures.py)."""
    try:
        measures = importlib.import_module("readdsp.training.audio_measures")
    except ImportError as err:
        return {"unavailable": str(err)}
    steps, t, notes = (0, 2, 4, 5, 7, 9, 7, 5, 4, 2, 0, 4, 7, 12, 11, 9), 0.1, []
    for i, step in enumerate(steps):
        length = (0.25, 0.5, 0.4, 0.75)[i % 4]
        notes.append(Note(45 + step, t, t + length, (60, 80, 100, 120)[i % 4]))
        t += length + (0.7 if i % 4 == 3 else 0.0)
    out = {}
    for value in (0, 127):
        audio = _render(renderer, notes, {controller: [(0.0, value)]}, 44100, instrument)
        out[f"cc{controller}_{value}"] = measures.audio_checks(audio, 44100, notes)
    return out


def real_note_distance(renderer: Renderer, instrument: str, controller: int, notes_dir: Path, program: int) -> dict:
    """Mean spectral-envelope distance (dB) of ours and FluidSynth's to each real guitar note (same pitch, 1.5 s)."""
    import tempfile

    from readdsp.core.midi_io import write_midi
    from readdsp.datasets.fluidsynth import render_midi, resolve_soundfont

    try:
        measures = importlib.import_module("readdsp.training.audio_measures")
    except ImportError as err:
        return {"unavailable": str(err)}
    soundfont = resolve_soundfont("musescore")
    out = {}
    for folder, octave_fix in (("guitar-acoustic", 12), ("guitar-electric", 0)):  # acoustic names sound an octave up
        files = sorted((notes_dir / folder).glob("*.wav"))
        ours, theirs = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for path in files:
                name, octave = path.stem.rstrip("0123456789"), path.stem[len(path.stem.rstrip("0123456789")) :]
                if name not in NOTE_NAMES or not octave:
                    continue
                pitch = 12 * (int(octave) + 1) + NOTE_NAMES[name] + octave_fix
                if not 40 <= pitch <= 88:
                    continue
                real, rate = sf.read(path, dtype="float32", always_2d=True)
                real = resample(real.mean(axis=1)[: int(1.5 * rate)], rate, 44100)
                note = [Note(pitch, 0.0, 1.2, 100)]
                ours.append(
                    measures.spectral_envelope_distance(
                        real, _render(renderer, note, {controller: [(0.0, 127)]}, 44100, instrument)[: len(real)], 44100
                    )
                )
                midi = write_midi(Performance([Part("ref", program, notes=note)]), Path(tmp) / "n.mid")
                theirs.append(
                    measures.spectral_envelope_distance(
                        real, render_midi(midi, soundfont, 44100, 1.2)[: len(real)], 44100
                    )
                )
        out[folder] = {
            "notes": len(ours),
            "ours_db": round(float(np.mean(ours)), 2) if ours else None,
            "soundfont_db": round(float(np.mean(theirs)), 2) if theirs else None,
        }
    return out
