"""Pictures of a render: mel spectrogram of the mix above each part's six expression curves (matplotlib, PNG)."""

from __future__ import annotations

from pathlib import Path

import librosa
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from readdsp.core.atomic import atomic_path  # noqa: E402
from readdsp.core.performance import CONTROL_NAMES, Performance  # noqa: E402

N_FFT, HOP = 2048, 512
FRAMES_PER_BLOCK = 1024  # frames windowed at once: 8 MB, whatever the render's length


def power_spectrogram(mix: np.ndarray) -> np.ndarray:
    """|STFT|^2 [N_FFT // 2 + 1, frames] of centred, zero-padded frames under a periodic Hann window, as
    librosa.stft computes it. Written out with numpy, as is the dB scale below, because librosa.stft and
    power_to_db compile numba functions on first use (20 s of CPU on a fresh install, under load), which the
    README's first render would wait for."""
    padded = np.pad(mix.astype(np.float32), N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    blocks = [
        np.abs(np.fft.rfft(frames[i : i + FRAMES_PER_BLOCK] * window, axis=-1)) ** 2
        for i in range(0, len(frames), FRAMES_PER_BLOCK)
    ]
    return np.concatenate(blocks).T


def plot_render(mix: np.ndarray, sample_rate: int, performance: Performance, path: str | Path, title: str = "") -> Path:
    """Save a PNG: the mix's log-mel spectrogram, then per part a step plot of each control over its notes."""
    parts = [p for p in performance.parts if p.notes and any(n.expression is not None for n in p.notes)]
    fig, axes = plt.subplots(
        1 + len(parts),
        1,
        figsize=(12, 3 + 2.2 * len(parts)),
        sharex=True,
        squeeze=False,
        gridspec_kw={"height_ratios": [2.2] + [1.0] * len(parts)},
    )
    axes = axes[:, 0]
    mel = librosa.filters.mel(sr=sample_rate, n_fft=N_FFT, n_mels=128) @ power_spectrogram(mix)
    db = 10.0 * np.log10(np.maximum(mel, 1e-10) / max(float(mel.max()), 1e-10))  # librosa.power_to_db, ref=np.max
    db = np.maximum(db, -80.0)
    duration = len(mix) / sample_rate
    axes[0].imshow(db, origin="lower", aspect="auto", extent=(0, duration, 0, 128), cmap="magma")
    axes[0].set_ylabel("mel band")
    axes[0].set_title(title or "ReaDDSP render")
    colours = plt.get_cmap("tab10")
    for ax, part in zip(axes[1:], parts, strict=True):
        for c, name in enumerate(CONTROL_NAMES):
            xs, ys = [], []
            for note in part.notes:
                if note.expression is None:
                    continue
                value = float(note.expression[c])
                xs += [note.onset, note.offset, np.nan]
                ys += [value, value, np.nan]
            ax.plot(xs, ys, color=colours(c), lw=1.6, label=name)
        ax.set_ylim(-0.05, 1.05)
        ax.set_ylabel(f"{part.name or 'part'}\n({part.instrument})", fontsize=8)
    if parts:
        axes[1].legend(ncol=6, fontsize=7, loc="upper right")
    axes[-1].set_xlabel("time (s)")
    fig.tight_layout()
    with atomic_path(path, ".png") as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return Path(path)
