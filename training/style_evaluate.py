"""Measure a style-DDSP bundle for its model card: style CC sweep (an openness proxy), velocity vs loudness, audio
checks, and the spectral distance to real guitar notes beside the soundfont's.

- Openness proxy: the sustain ratio, the level (dB, 20-ms RMS) 270-300 ms after an onset (or just before the next
  onset or the first note-off, when sooner) minus the peak in the onset's first 50 ms, taken per onset group (the
  notes that start together) and summarised by the median over the phrase's groups. A palm-muted string dies within
  a few tenths of a second, an open one rings: it separates the muted (GM 28) and open (GM 26) training programs,
  where the high-band energy ratio (kept beside it, for comparison) does not. The same proxy is reported on the
  training audio, per onset group against the CC55 value in force at the onset.
- CC sweep: every held-out (validation and test) phrase is rendered with the CC held at 0, 16, ..., 127; r is
  Pearson's between CC value and proxy, per phrase (the median is reported), pooled over all renders, and pooled
  within phrases (each phrase's proxy centred on its mean, as phrases differ in content).
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
ENV_HOP_S = 0.005
SUSTAIN_AT_S = 0.3
SWEEP = (0, 16, 32, 48, 64, 80, 96, 112, 127)
VELOCITIES = (20, 40, 60, 80, 100, 127)
PITCHES = (40, 45, 50, 55, 60, 64, 69, 74)
NOTE_NAMES = {"C": 0, "Cs": 1, "D": 2, "Ds": 3, "E": 4, "F": 5, "Fs": 6, "G": 7, "Gs": 8, "A": 9, "As": 10, "B": 11}


def high_band_ratio(audio: np.ndarray, sample_rate: int) -> float:
    """High-band energy ratio (dB) over the active frames (the earlier proxy, kept for comparison)."""
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


def level_envelope(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """20-ms RMS level (dB) every ENV_HOP_S."""
    hop, win = int(sample_rate * ENV_HOP_S), int(sample_rate * 0.02)
    a = np.asarray(audio, np.float64)
    if len(a) < win:
        return np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(a, win)[::hop]
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def onset_groups(notes: np.ndarray) -> list[tuple[float, float]]:
    """(onset, end) per group of notes starting within 10 ms of each other; end = the group's first note-off or
    the next group's onset, whichever is sooner. `notes`: [n, 4] pitch, onset, offset, velocity."""
    if not len(notes):
        return []
    order = notes[np.argsort(notes[:, 1], kind="stable")]
    starts = np.flatnonzero(np.diff(order[:, 1], prepend=-1.0) > 0.01)
    bounds = list(starts) + [len(order)]
    out = []
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        end = float(order[lo:hi, 2].min())
        if i + 1 < len(starts):
            end = min(end, float(order[bounds[i + 1], 1]))
        out.append((float(order[lo, 1]), end))
    return out


def sustain_ratio(envelope: np.ndarray, onset: float, end: float) -> float:
    """Level near SUSTAIN_AT_S after `onset` (or before `end`) minus the onset peak (dB); NaN when the span is under
    120 ms, runs past the audio, or the onset is 50 dB under the loudest frame."""
    a, c = int(onset / ENV_HOP_S), int(min(end, onset + SUSTAIN_AT_S) / ENV_HOP_S)
    if c - a < int(0.12 / ENV_HOP_S) or c > len(envelope):
        return float("nan")
    peak = float(envelope[a : a + int(0.05 / ENV_HOP_S)].max())
    if peak < float(envelope.max()) - 50.0:
        return float("nan")
    return float(envelope[c - int(0.03 / ENV_HOP_S) : c].mean()) - peak


def openness_proxy(audio: np.ndarray, sample_rate: int, notes: np.ndarray) -> float:
    """Median sustain ratio (dB) over a phrase's onset groups; NaN when none can be measured."""
    envelope = level_envelope(audio, sample_rate)
    values = [sustain_ratio(envelope, on, end) for on, end in onset_groups(notes)]
    values = [v for v in values if np.isfinite(v)]
    return float(np.median(values)) if values else float("nan")


def _r(x, y) -> float | None:
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3 or x[keep].std() == 0 or y[keep].std() == 0:
        return None
    return round(float(np.corrcoef(x[keep], y[keep])[0, 1]), 4)


def _render(renderer: Renderer, notes: list[Note], cc: dict, sample_rate: int, instrument: str) -> np.ndarray:
    part = Part("eval", 25, notes=notes, cc=cc)
    return renderer.render(Performance([part]), sample_rate, instrument=instrument, seed=0).mix


def _stats(rs: list[float | None]) -> tuple[float | None, float | None]:
    kept = [r for r in rs if r is not None]
    return (round(float(np.median(kept)), 4), round(float(np.min(kept)), 4)) if kept else (None, None)


def cc_sweep(renderer: Renderer, dataset_dir: Path, controller: int, instrument: str, max_phrases: int = 12) -> dict:
    """The proxy of held-out phrases rendered at each swept CC value; r per phrase and pooled."""
    data = open_dataset(dataset_dir)
    examples = [e for split in ("test", "validation") for e in data.iter_examples(split)][:max_phrases]
    sr = renderer.model_sample_rate
    per_phrase, high_band, pooled_x, pooled_y, centred = [], [], [], [], []
    for example in examples:
        renders = [_render(renderer, example.note_list(), {controller: [(0.0, v)]}, sr, instrument) for v in SWEEP]
        values = [openness_proxy(audio, sr, example.notes) for audio in renders]
        per_phrase.append(_r(SWEEP, values))
        high_band.append(_r(SWEEP, [high_band_ratio(audio, sr) for audio in renders]))
        pooled_x += list(SWEEP)
        pooled_y += values
        centred += list(np.asarray(values) - np.nanmean(values))
    median, lowest = _stats(per_phrase)
    at = np.asarray(pooled_y).reshape(-1, len(SWEEP)) if pooled_y else np.full((1, len(SWEEP)), np.nan)
    return {
        "proxy": "sustain ratio (dB)",
        "phrases": len(examples),
        "values": list(SWEEP),
        "median_r_per_phrase": median,
        "min_r_per_phrase": lowest,
        "phrases_r_at_least_0_8": sum(1 for r in per_phrase if r is not None and r >= 0.8),
        "pooled_r": _r(pooled_x, pooled_y),
        "pooled_within_phrase_r": _r(pooled_x, centred),
        "proxy_median_per_value_db": [round(float(np.nanmedian(col)), 2) for col in at.T],
        "high_band_median_r_per_phrase": _stats(high_band)[0],
    }


def training_proxy(dataset_dir: Path, controller: int) -> dict:
    """The proxy on the training audio, per onset group, against the CC value in force at the onset."""
    data = open_dataset(dataset_dir)
    xs, ys = [], []
    for example in data.iter_examples("train"):
        lane = example.cc.get(controller)
        if lane is None or not len(example.notes):
            continue
        envelope = level_envelope(example.audio, example.sample_rate)
        for onset, end in onset_groups(example.notes):
            idx = int(np.searchsorted(lane[:, 0], onset + 1e-4, side="right")) - 1
            if idx < 0:
                continue
            xs.append(float(lane[idx, 1]))
            ys.append(sustain_ratio(envelope, onset, end))
    xs_a, ys_a = np.array(xs), np.array(ys)
    keep = np.isfinite(ys_a)
    xs_a, ys_a = xs_a[keep], ys_a[keep]
    closed, open_ = ys_a[xs_a <= 0.5], ys_a[xs_a >= 126.5]
    out = {"proxy": "sustain ratio (dB)", "onset_groups": int(len(xs_a)), "r": _r(xs_a, ys_a)}
    if len(closed) and len(open_):
        threshold = (np.median(closed) + np.median(open_)) / 2
        right = (closed < threshold).sum() + (open_ >= threshold).sum()
        out |= {
            "median_closed_db": round(float(np.median(closed)), 2),
            "median_open_db": round(float(np.median(open_)), 2),
            "share_separated_by_midpoint": round(float(right / (len(closed) + len(open_))), 4),
        }
    return out


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


def audio_checks_style(renderer: Renderer, instrument: str, controller: int, programs: dict[int, int]) -> dict:
    """The MIDI-DDSP bundles' audio checks (training/audio_checks.py: pitch per note on the render, onsets, release,
    levels, mel distance to the training soundfont) on the same test phrase, once per style-CC value in `programs`
    (CC value -> the GM program the training data used for it): ours at that CC value beside FluidSynth + FluidR3_GM
    on that program; the source is MuseScore_General on that program."""
    from readdsp.training.audio_checks import RATE, _overall, test_phrase
    from readdsp.training.audio_measures import audio_checks
    from readdsp.training.real_excerpts import mel_distance
    from readdsp.training.reference_renders import ours_render, soundfont_render

    notes = test_phrase(instrument)
    rows = {}
    for value, program in programs.items():
        part = Part(instrument, program, instrument=instrument, notes=list(notes), cc={controller: [(0.0, value)]})
        perf = Performance([part])
        ours = ours_render(renderer, perf, RATE)
        fluid = soundfont_render(perf, "fluidr3", RATE)
        source = soundfont_render(perf, "musescore", RATE)
        rows[f"{instrument} CC{controller}={value} (GM {program})"] = {
            "notes": len(notes),
            "ours": audio_checks(ours, RATE, notes)
            | {"mel_distance_to_source_db": round(mel_distance(source, ours, RATE), 3)},
            "fluidsynth": audio_checks(fluid, RATE, notes)
            | {"mel_distance_to_source_db": round(mel_distance(source, fluid, RATE), 3)},
        }
    return {"source_soundfont": "MuseScore_General", "instruments": rows, "overall": _overall(rows)}


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
