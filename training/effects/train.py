"""`readdsp effects train`: fit one model family, or try them all (`auto`) and keep the best on validation."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from readdsp.core.effects.base import EffectModel
from readdsp.core.effects.esr import esr
from readdsp.core.effects.fir import FirModel
from readdsp.core.effects.model_file import load_model, save_model
from readdsp.core.effects.shaper import ShaperModel
from readdsp.core.effects.wiener_hammerstein import WienerHammersteinModel
from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.effects.manifest import load_split, read_manifest
from readdsp.training.effects import FAMILIES, MODELS, NAM_MODELS
from readdsp.training.effects.chorus_fit import fit_chorus_model
from readdsp.training.effects.compressor_fit import fit_compressor
from readdsp.training.effects.fir_fit import fit_fir
from readdsp.training.effects.gate_fit import fit_gate
from readdsp.training.effects.grey_box import FitFailed
from readdsp.training.effects.modulation_fit import fit_modulation
from readdsp.training.effects.phaser_fit import fit_phaser
from readdsp.training.effects.shaper_fit import fit_shaper_fir
from readdsp.training.effects.tremolo_fit import fit_tremolo
from readdsp.training.effects.wiener_hammerstein_fit import fit_wiener_hammerstein

#: Length of the Wiener-Hammerstein pre-FIR: 20 ms holds a first-order 80 Hz low cut to -40 dB.
PRE_FIR_SECONDS = 0.02
MAX_FIR_SECONDS = 4.0


@dataclass
class FitData:
    """The train split and what the fits need to know about the dataset."""

    x: np.ndarray
    y: np.ndarray
    sample_rate: int
    tail_seconds: float
    fir_seconds: float | None

    def fir_length(self, default_cap: float) -> tuple[float, int]:
        """(seconds, taps): the user's FIR length, else the dataset's tail capped at `default_cap`."""
        seconds = self.fir_seconds if self.fir_seconds is not None else min(max(self.tail_seconds, 0.01), default_cap)
        return seconds, max(1, int(seconds * self.sample_rate))


def _fit_fir(d: FitData, budget: float) -> EffectModel:
    _, length = d.fir_length(MAX_FIR_SECONDS)
    return FirModel(d.sample_rate, fit_fir(d.x, d.y, length, max_seconds=budget))


def _fit_shaper(d: FitData, budget: float) -> EffectModel:
    _, length = d.fir_length(1.0)
    return ShaperModel(d.sample_rate, *fit_shaper_fir(d.x, d.y, d.sample_rate, length, max_seconds=budget))


def _fit_wiener_hammerstein(d: FitData, budget: float) -> EffectModel:
    _, length = d.fir_length(1.0)
    pre_length = int(PRE_FIR_SECONDS * d.sample_rate)
    parts = fit_wiener_hammerstein(d.x, d.y, d.sample_rate, pre_length, length, max_seconds=budget)
    return WienerHammersteinModel(d.sample_rate, *parts)


GreyBoxFit = Callable[[np.ndarray, np.ndarray, int, float], EffectModel]


def _grey_box(fit: GreyBoxFit) -> Callable[[FitData, float], EffectModel]:
    return lambda d, budget: fit(d.x, d.y, d.sample_rate, budget)


#: Our model families and how each is fitted on the train split within a time budget (seconds).
FITTERS: dict[str, Callable[[FitData, float], EffectModel]] = {
    "fir": _fit_fir,
    "shaper": _fit_shaper,
    "wiener-hammerstein": _fit_wiener_hammerstein,
    "modulation": _grey_box(fit_modulation),
    "phaser": _grey_box(fit_phaser),
    "tremolo": _grey_box(fit_tremolo),
    "compressor": _grey_box(fit_compressor),
    "gate": _grey_box(fit_gate),
    "chorus": _grey_box(fit_chorus_model),
}
#: What `auto` tries, in order, with each family's share of the budget (time a fit leaves unused rolls on).
AUTO_FAMILIES = {"fir": 1.0, "shaper": 1.0, "tremolo": 0.5, "compressor": 1.0, "gate": 1.0, "modulation": 2.5,
                 "phaser": 2.5, "wiener-hammerstein": 2.0}  # fmt: skip
assert tuple(FITTERS) == FAMILIES, "FITTERS and training.effects.FAMILIES must list the same families"


def held_out_esr(model: EffectModel, dataset_dir: Path, split: str = "test") -> float:
    """ESR of the model on a split, processed from rest (each split starts with a reset)."""
    x, y, sr = load_split(dataset_dir, split)
    model.reset()
    return esr(model.process(x, sr), y)


def baseline_esr(dataset_dir: Path, split: str) -> dict[str, float]:
    """What doing nothing scores: `identity` (output = input) and `dry` (the input at its best gain)."""
    x, y, _ = load_split(dataset_dir, split)
    x64, y64 = np.asarray(x, np.float64), np.asarray(y, np.float64)
    gain = float(x64 @ y64) / max(float(x64 @ x64), 1e-30)
    return {"identity": esr(x, y), "dry": esr(gain * x64, y)}


def baseline_warning(name: str, val_esr: float, baseline: dict[str, float]) -> str | None:
    """A warning when the model is no better than doing nothing on validation, naming which baseline."""
    which = min(baseline, key=lambda k: baseline[k])
    if val_esr < baseline[which]:
        return None
    return (f"{name} (val ESR {val_esr:.3g}) is no better than the {which} baseline (val ESR {baseline[which]:.3g}): "
            "this effect is outside the model's reach, or the capture did not change the audio")  # fmt: skip


def _auto(data: FitData, dataset_dir: Path, max_seconds: float, log: Callable[[str], None]) -> tuple[EffectModel, list]:
    """Fit every family in AUTO_FAMILIES within the budget; the best on validation wins."""
    start = time.monotonic()
    candidates: list[dict[str, Any]] = []
    best: tuple[float, EffectModel | None] = (np.inf, None)
    families = list(AUTO_FAMILIES)
    for i, family in enumerate(families):
        left = max_seconds - (time.monotonic() - start)
        weights = [AUTO_FAMILIES[f] for f in families[i:]]
        budget = max(1.0, left * weights[0] / sum(weights))
        began = time.monotonic()
        try:
            model = FITTERS[family](data, budget)
        except FitFailed as err:
            candidates.append({"model": family, "skipped": str(err)})
            log(f"auto: {family} skipped ({err})")
            continue
        val = held_out_esr(model, dataset_dir, "val")
        seconds = round(time.monotonic() - began, 1)
        candidates.append({"model": family, "val_esr": val, "seconds": seconds})
        log(f"auto: {family} val ESR {val:.3g} ({seconds:g} s)")
        if val < best[0]:
            best = (val, model)
    if best[1] is None:
        raise ReaDDSPError("no model family could be fitted to this dataset", dataset_dir)
    return best[1], candidates


def train_model(
    dataset_dir: str | Path,
    model: str,
    out_path: str | Path,
    max_seconds: float = 300.0,
    fir_seconds: float | None = None,
    nam_max_steps: int | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Train (or, with 'auto', choose), save, and return the scores, the baselines and any warning."""
    dataset_dir, out_path = Path(dataset_dir), Path(out_path)
    manifest = read_manifest(dataset_dir)
    if model not in MODELS:
        raise ReaDDSPError(f"unknown model {model!r} (expected one of {', '.join(MODELS)})")
    start = time.monotonic()
    candidates: list[dict[str, Any]] = []
    if model in NAM_MODELS:
        if out_path.suffix != ".nam":
            raise ReaDDSPError("NAM models are saved as .nam; use that extension", out_path)
        from readdsp.training.effects.nam_train import train_nam

        architecture = "lstm" if model == "nam-lstm" else "wavenet"
        train_nam(dataset_dir, out_path, architecture, max_seconds=max_seconds, max_steps=nam_max_steps)
        fitted = load_model(out_path)
    else:
        if out_path.suffix != ".safetensors":
            raise ReaDDSPError("our models are saved as .safetensors; use that extension", out_path)
        x, y, sr = load_split(dataset_dir, "train")
        data = FitData(x, y, sr, float(manifest["tail_seconds"]), fir_seconds)
        if model == "auto":
            fitted, candidates = _auto(data, dataset_dir, max_seconds, log)
        else:
            try:
                fitted = FITTERS[model](data, max_seconds)
            except FitFailed as err:
                raise ReaDDSPError(f"the {model} model does not fit this dataset: {err}", dataset_dir) from err
    baseline = baseline_esr(dataset_dir, "val")
    result: dict[str, Any] = {
        "model": fitted.kind if model != "nam-lstm" else model,
        "path": str(out_path),
        "val_esr": held_out_esr(fitted, dataset_dir, "val"),
        "test_esr": held_out_esr(fitted, dataset_dir, "test"),
        "baseline_val_esr": baseline,
        "seconds": round(time.monotonic() - start, 2),
    }
    if candidates:
        result["candidates"] = candidates
    warning = baseline_warning(result["model"], result["val_esr"], baseline)
    if warning:
        result["warning"] = warning
    if model not in NAM_MODELS:
        fitted.info = {"dataset": manifest.get("name"), **{k: v for k, v in result.items() if k != "path"}}
        save_model(out_path, fitted)
    return result
