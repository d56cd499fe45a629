"""`readdsp effects report`: held-out ESR beside the do-nothing baselines, PNGs, an ABX kit and an index page."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from readdsp.core.atomic import atomic_path, write_json, write_wav
from readdsp.core.effects.esr import esr
from readdsp.core.effects.model_file import load_model
from readdsp.datasets.effects.manifest import load_split, read_manifest
from readdsp.training.effects.report_plots import ir_overlay, mel_triptych, modulation_panel, trim_silence
from readdsp.training.effects.train import baseline_esr

ABX_SECONDS = 8.0
IR_SECONDS = 0.3


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
    """Write ESR (val/test, with baselines), PNGs, ABX kit and index.html into `out_dir`; returns the summary."""
    out_dir, dataset_dir = Path(out_dir), Path(dataset_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = load_model(model_path)
    manifest = read_manifest(dataset_dir)
    summary: dict[str, Any] = {"model": str(model_path), "kind": model.kind, "dataset": str(dataset_dir)}
    for split in ("val", "test"):
        x, y, sr = load_split(dataset_dir, split)
        model.reset()
        pred = model.process(x, sr)
        summary[f"{split}_esr"] = esr(pred, y)
        for name, value in baseline_esr(dataset_dir, split).items():
            summary[f"{split}_esr_{name}_baseline"] = value
    entry = manifest["splits"]["test"]
    start = entry["impulse_positions"][0]
    n_ir = int(IR_SECONDS * sr)
    pictures = ["mel_triptych.png", "impulse_response.png"]
    ir_overlay(y[start : start + n_ir], pred[start : start + n_ir], sr, out_dir / "impulse_response.png")
    body = slice(entry["capture_samples"], entry["capture_samples"] + int(ABX_SECONDS * sr))
    keep = trim_silence(y[body], sr)
    mel_triptych(x[body][keep], y[body][keep], pred[body][keep], sr, out_dir / "mel_triptych.png")
    if modulation_panel(model, x, y, sr, out_dir / "modulation.png"):
        pictures.append("modulation.png")
    (out_dir / "abx").mkdir(exist_ok=True)
    abx_kit(y[body], pred[body], sr, out_dir / "abx", seed)
    write_json(out_dir / "summary.json", summary)
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in summary.items())
    images = "".join(f"<h2>{html.escape(p[:-4].replace('_', ' '))}</h2><img src='{p}'>" for p in pictures)
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>ReaDDSP effect report</title></head><body>"
        f"<h1>Effect model report</h1><table>{rows}</table>{images}"
        "<h2>ABX kit</h2><p><a href='abx/A.wav'>A</a> <a href='abx/B.wav'>B</a> <a href='abx/X.wav'>X</a> "
        "(answer in <a href='abx/answer_key.json'>answer_key.json</a>: do not peek)</p></body></html>\n"
    )
    with atomic_path(out_dir / "index.html", ".html") as tmp:
        tmp.write_text(page, encoding="utf-8")
    return summary
