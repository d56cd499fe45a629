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
    mel = librosa.feature.melspectrogram(
        y=mix.astype(np.float32), sr=sample_rate, n_fft=2048, hop_length=512, n_mels=128
    )
    db = librosa.power_to_db(mel + 1e-10, ref=np.max, top_db=80)
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
