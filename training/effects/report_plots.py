"""The report's pictures: mel spectrograms with a dB scale, the impulse response, the learned vs measured LFO."""

from __future__ import annotations

from pathlib import Path

import librosa
import librosa.display
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from readdsp.core.atomic import atomic_path  # noqa: E402
from readdsp.core.effects.base import EffectModel  # noqa: E402
from readdsp.core.effects.modulation import ModulatedDelayModel  # noqa: E402
from readdsp.core.effects.phaser import PhaserModel  # noqa: E402
from readdsp.core.effects.tremolo import TremoloModel  # noqa: E402
from readdsp.core.units import amplitude_to_db  # noqa: E402

SILENCE_DB = -60.0
SILENCE_BLOCK = 2048
LFO_SECONDS = 6.0


def _save_png(fig: plt.Figure, path: Path) -> None:
    with atomic_path(path, ".png") as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def trim_silence(audio: np.ndarray, sr: int) -> np.ndarray:
    """Sample mask dropping blocks more than 60 dB under the loudest block (gaps between test tones)."""
    n = len(audio) // SILENCE_BLOCK * SILENCE_BLOCK
    rms = np.sqrt(np.mean(np.asarray(audio[:n], np.float64).reshape(-1, SILENCE_BLOCK) ** 2, axis=1)) + 1e-12
    loud = amplitude_to_db(rms / rms.max(), floor_db=-240.0) > SILENCE_DB
    mask = np.zeros(len(audio), bool)
    mask[:n] = np.repeat(loud, SILENCE_BLOCK)
    return mask if mask.any() else np.ones(len(audio), bool)


def mel_triptych(clean: np.ndarray, target: np.ndarray, model: np.ndarray, sr: int, path: Path) -> None:
    """Three mel spectrograms (clean, target, model) on one dB scale, time in seconds, silences cut."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5), sharey=True)
    mels = [librosa.power_to_db(librosa.feature.melspectrogram(y=np.asarray(a, np.float32), sr=sr, n_mels=96),
                                ref=1.0, top_db=None) for a in (clean, target, model)]  # fmt: skip
    top = max(float(m.max()) for m in mels)
    image = None
    for ax, title, mel in zip(axes, ("clean input", "target", "model"), mels, strict=True):
        image = librosa.display.specshow(mel, sr=sr, x_axis="time", y_axis="mel", ax=ax, cmap="magma",
                                         vmin=top - 90, vmax=top)  # fmt: skip
        ax.set_title(title)
        ax.set_xlabel("time (s, silences cut)")
    fig.colorbar(image, ax=axes, format="%+.0f dB", label="power (dB)")
    _save_png(fig, path)


def ir_overlay(target_ir: np.ndarray, model_ir: np.ndarray, sr: int, path: Path) -> None:
    """Target and model responses to the first capture impulse, overlaid."""
    t = np.arange(len(target_ir)) / sr * 1000
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(t, target_ir, label="target", lw=1.2)
    ax.plot(t, model_ir, label="model", lw=0.9, alpha=0.8)
    ax.set_xlabel("ms after impulse")
    ax.set_ylabel("amplitude")
    ax.legend()
    fig.tight_layout()
    _save_png(fig, path)


def _measured_lfo(model: EffectModel, x: np.ndarray, y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, str]:
    from readdsp.training.effects.modulation_fit import measured_delays_ms
    from readdsp.training.effects.phaser_fit import measured_break_frequency
    from readdsp.training.effects.tremolo_fit import measured_gain

    if isinstance(model, ModulatedDelayModel):
        return (*measured_delays_ms(x, y, sr), "delay (ms)")
    if isinstance(model, PhaserModel):
        times, log2_hz, _ = measured_break_frequency(x, y, sr)
        return times, log2_hz, "all-pass break frequency (log2 Hz)"
    times, gain = measured_gain(x, y, sr)
    return times, gain, "gain"


def modulation_panel(model: EffectModel, x: np.ndarray, y: np.ndarray, sr: int, path: Path) -> bool:
    """For LFO models: the learned LFO over the split's first seconds against the one measured from the target.
    Returns False (and draws nothing) for other kinds or when nothing could be measured."""
    if not isinstance(model, ModulatedDelayModel | PhaserModel | TremoloModel):
        return False
    from readdsp.training.effects.grey_box import FitFailed

    n = min(len(x), int(LFO_SECONDS * sr))
    try:
        times, measured, label = _measured_lfo(model, x[:n], y[:n], sr)
    except FitFailed:
        times, measured, label = np.zeros(0), np.zeros(0), "LFO"
    learned = model.lfo.values(0, n)
    fig, (ax, shape) = plt.subplots(1, 2, figsize=(14, 4), gridspec_kw={"width_ratios": [3, 1]})
    ax.plot(np.arange(n) / sr, learned, lw=1.2, label="learned LFO")
    ax.plot(times, measured, ".", ms=3, alpha=0.6, label="measured from the target")
    ax.set_xlabel("time (s)")
    ax.set_ylabel(label)
    ax.set_title(f"{model.kind}: LFO at {model.lfo.rate_hz:.3f} Hz")
    ax.legend()
    shape.plot(np.linspace(0, 1, 512, endpoint=False), model.lfo.one_period())
    shape.set_xlabel("phase (cycles)")
    shape.set_title("learned shape, one period")
    fig.tight_layout()
    _save_png(fig, path)
    return True
