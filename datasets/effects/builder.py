"""Build a paired effect dataset from a chain spec: generate, process, align, write atomically."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from readdsp.core.atomic import write_json, write_wav
from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.effects.capture import capture_signal
from readdsp.datasets.effects.chain_spec import ChainSpec, load_chain_spec
from readdsp.datasets.effects.latency import align, measure_latency
from readdsp.datasets.effects.manifest import SPLITS, manifest_dict, sha256_file
from readdsp.datasets.effects.pedalboard_backend import process
from readdsp.datasets.effects.signals import seed_signals
from readdsp.datasets.effects.user_audio import folder_material

SPLIT_FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}
MAX_LATENCY_SECONDS = 0.05
BACKENDS = ("builtin", "reaper")


def split_input(spec: ChainSpec, split_index: int, seconds: float, seed: int, audio_folder: Path | None):
    """One split's clean input: capture section, program material, then `tail_seconds` of silence."""
    sr = spec.sample_rate
    split_seed = seed * 1000 + split_index
    capture = capture_signal(sr, split_seed)
    if audio_folder is not None:
        user = folder_material(audio_folder, sr, seconds / 2, split_seed)
        synthetic = seed_signals(seconds - len(user) / sr, sr, split_seed)
        material = np.concatenate([synthetic, user])
    else:
        material = seed_signals(seconds, sr, split_seed)
    tail = np.zeros(int(spec.tail_seconds * sr), np.float32)
    audio = np.clip(np.concatenate([capture.audio, material, tail]), -0.95, 0.95).astype(np.float32)
    return audio, capture.impulse_positions, len(capture.audio)


def _render(spec: ChainSpec, inputs: dict[str, np.ndarray], backend: str, work: Path) -> dict[str, np.ndarray]:
    if backend == "builtin":
        return {name: process(spec, audio) for name, audio in inputs.items()}
    from readdsp.datasets.effects.reaper_backend import process_with_reaper

    return process_with_reaper(spec, inputs, work / "reaper")


def _finish(tmp: Path, out_dir: Path, overwrite: bool) -> None:
    """Move the finished temp dir into place; an old dataset goes only once the new one is complete."""
    if out_dir.exists():
        if not overwrite:
            raise ReaDDSPError("output folder exists (pass --overwrite to replace it)", out_dir)
        old = out_dir.with_name(f".{out_dir.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        out_dir.rename(old)
        tmp.rename(out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out_dir)


def build_dataset(
    spec_path: str | Path,
    out_dir: str | Path,
    minutes: float = 3.0,
    seed: int = 0,
    backend: str = "builtin",
    audio_folder: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Build DIR with {split}_input.wav / {split}_target.wav and manifest.json; all or nothing."""
    if backend not in BACKENDS:
        raise ReaDDSPError(f"unknown backend {backend!r} (expected builtin or reaper)")
    if not minutes > 0:
        raise ReaDDSPError(f"--minutes must be positive, got {minutes}")
    spec = load_chain_spec(spec_path)
    out_dir = Path(out_dir).resolve()
    if out_dir.exists() and not overwrite:
        raise ReaDDSPError("output folder exists (pass --overwrite to replace it)", out_dir)
    folder = Path(audio_folder) if audio_folder else spec.audio_folder
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        bar = tqdm(total=3 * len(SPLITS) + 1, desc=f"effects {spec.name}", unit="step", disable=not progress)
        inputs, impulses, capture_len = {}, {}, {}
        for i, split in enumerate(SPLITS):
            inputs[split], impulses[split], capture_len[split] = split_input(
                spec, i, 60.0 * minutes * SPLIT_FRACTIONS[split], seed, folder
            )
            bar.update()
        raw = _render(spec, inputs, backend, tmp / "work")
        bar.update(len(SPLITS))
        splits, sha = {}, {}
        max_latency = int(MAX_LATENCY_SECONDS * spec.sample_rate)
        for split in SPLITS:
            latency, lags = measure_latency(raw[split], impulses[split], max_latency)
            # pedalboard compensates plugin latency itself; an onset lag there is the effect (e.g. a cab IR)
            shift = latency if backend == "reaper" else 0
            target = align(raw[split], shift, len(inputs[split]), f"{split} ({backend} backend)")
            if not np.all(np.isfinite(target)):
                raise ReaDDSPError(f"the {split} output contains NaN or infinity", spec.path)
            for role, audio in (("input", inputs[split]), ("target", target)):
                write_wav(tmp / f"{split}_{role}.wav", audio, spec.sample_rate)
                sha[f"{split}_{role}.wav"] = sha256_file(tmp / f"{split}_{role}.wav")
            splits[split] = {
                "input": f"{split}_input.wav",
                "target": f"{split}_target.wav",
                "samples": len(inputs[split]),
                "capture_samples": capture_len[split],
                "impulse_positions": impulses[split],
                "latency_samples": shift,
                "measured_onset_samples": latency,
                "impulse_lags": lags,
            }
            bar.update()
        fxchain = spec.reaper_fxchain
        manifest = manifest_dict(
            name=spec.name,
            sample_rate=spec.sample_rate,
            backend=backend,
            seed=seed,
            minutes=minutes,
            tail_seconds=spec.tail_seconds,
            tails_kept=True,
            chain_spec_file=str(spec.path),
            chain_spec=spec.raw,
            fxchain_file=str(fxchain) if fxchain and backend == "reaper" else None,
            fxchain_text=fxchain.read_text(errors="replace") if fxchain and backend == "reaper" else None,
            audio_folder=str(folder) if folder else None,
            latency_samples=int(np.median([s["latency_samples"] for s in splits.values()])),
            pairs=[[s["input"], s["target"]] for s in splits.values()],
            splits=splits,
            sha256=sha,
        )
        shutil.rmtree(tmp / "work", ignore_errors=True)
        write_json(tmp / "manifest.json", manifest)
        bar.update()
        bar.close()
        _finish(tmp, out_dir, overwrite)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir
