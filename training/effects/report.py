"""`readdsp effects report`: held-out ESR, mel triptych and IR PNGs, ABX kit, index."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import librosa
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from readdsp.core.atomic import atomic_path, write_json, write_wav  # noqa: E402
from readdsp.core.effects.apply import apply_model  # noqa: E402
from readdsp.core.effects.esr import esr  # noqa: E402
from readdsp.core.effects.model_file import load_model  # noqa: E402
from readdsp.datasets.effects.manifest import load_split, read_manifest  # noqa: E402

IR_SECONDS = 0.3
ABX_SECONDS = 8.0


def _save_png(fig: plt.Figure, path: Path) -> None:
    with atomic_path(path, ".png") as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def mel_triptych(clean: np.ndarray, target: np.ndarray, model: np.ndarray, sr: int, path: Path) -> None:
    """Three mel spectrograms side by side: clean, target, model."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), sharey=True)
    for ax, (title, audio) in zip(axes, (("clean", clean), ("target", target), ("model", model)), strict=True):
        mel = librosa.power_to_db(librosa.feature.melspectrogram(y=audio, sr=sr, n_mels=96), ref=1.0, top_db=90)
        ax.imshow(mel, origin="lower", aspect="auto", cmap="magma")
        ax.set_title(title)
        ax.set_xlabel("frame")
    axes[0].set_ylabel("mel bin")
    fig.tight_layout()
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


def abx_kit(target: np.ndarray, model: np.ndarray, sr: int, out: Path, seed: int) -> dict[str, Any]:
    """A = target effect, B = model, X = one of them (seeded); the key says which."""
    x_is = "A" if np.random.default_rng(seed).random() < 0.5 else "B"
    write_wav(out / "A.wav", target, sr)
    write_wav(out / "B.wav", model, sr)
    write_wav(out / "X.wav", target if x_is == "A" else model, sr)
    key = {"A": "target (reference effect)", "B": "model", "X": x_is}
    write_json(out / "answer_key.json", key)
    return key


def write_report(model_path: str | Path, dataset_dir: str | Path, out_dir: str | Path, seed: int = 0) -> dict[str, Any]:
    """Write ESR (val/test), PNGs, ABX kit and index.html into `out_dir`; returns the summary."""
    out_dir, dataset_dir = Path(out_dir), Path(dataset_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = load_model(model_path)
    manifest = read_manifest(dataset_dir)
    summary: dict[str, Any] = {"model": str(model_path), "kind": model.kind, "dataset": str(dataset_dir)}
    for split in ("val", "test"):
        x, y, sr = load_split(dataset_dir, split)
        pred = apply_model(model, x, sr)
        summary[f"{split}_esr"] = esr(pred, y)
    entry = manifest["splits"]["test"]
    start = entry["impulse_positions"][0]
    n_ir = int(IR_SECONDS * sr)
    ir_overlay(y[start : start + n_ir], pred[start : start + n_ir], sr, out_dir / "impulse_response.png")
    body = slice(entry["capture_samples"], entry["capture_samples"] + int(ABX_SECONDS * sr))
    mel_triptych(x[body], y[body], pred[body], sr, out_dir / "mel_triptych.png")
    (out_dir / "abx").mkdir(exist_ok=True)
    abx_kit(y[body], pred[body], sr, out_dir / "abx", seed)
    write_json(out_dir / "summary.json", summary)
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in summary.items())
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>ReaDDSP effect report</title></head><body>"
        f"<h1>Effect model report</h1><table>{rows}</table>"
        "<h2>Mel spectrograms (clean, target, model)</h2><img src='mel_triptych.png'>"
        "<h2>Impulse response</h2><img src='impulse_response.png'>"
        "<h2>ABX kit</h2><p><a href='abx/A.wav'>A</a> <a href='abx/B.wav'>B</a> <a href='abx/X.wav'>X</a> "
        "(answer in <a href='abx/answer_key.json'>answer_key.json</a>: do not peek)</p></body></html>\n"
    )
    with atomic_path(out_dir / "index.html", ".html") as tmp:
        tmp.write_text(page, encoding="utf-8")
    return summary
