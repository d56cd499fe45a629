"""Build a paired effect dataset from a chain spec: generate, process, align, write atomically."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from readdsp.core.atomic import write_json, write_wav
from readdsp.core.errors import ReaDDSPError
from readdsp.core.hashing import sha256_file
from readdsp.datasets.effects.backend import EffectBackend
from readdsp.datasets.effects.capture import capture_signal
from readdsp.datasets.effects.chain_spec import ChainSpec, load_chain_spec
from readdsp.datasets.effects.latency import align, measure_latency
from readdsp.datasets.effects.manifest import SPLITS, manifest_dict
from readdsp.datasets.effects.pedalboard_backend import PedalboardBackend
from readdsp.datasets.effects.signals import seed_signals
from readdsp.datasets.effects.user_audio import folder_material

SPLIT_FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}
MAX_LATENCY_SECONDS = 0.05
#: An output peak at or above this touches full scale (a 24-bit file's largest value is 1 - 2^-23).
FULL_SCALE = 0.999
#: Output within this of the input (relative to the input's peak) counts as unchanged.
UNCHANGED_TOLERANCE = 1e-4
INPUT_PEAK = 0.95


def split_input(
    spec: ChainSpec, split_index: int, seconds: float, seed: int, audio_folder: Path | None, level_db: float = 0.0
):
    """One split's clean input: capture section, program material, then `tail_seconds` of silence.

    `level_db` scales the whole input (the capture level); peaks stay at most INPUT_PEAK."""
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
    audio = np.clip(np.concatenate([capture.audio, material, tail]), -INPUT_PEAK, INPUT_PEAK)
    audio = np.clip(audio * 10 ** (level_db / 20), -INPUT_PEAK, INPUT_PEAK).astype(np.float32)
    return audio, capture.impulse_positions, len(capture.audio)


def check_output(target: np.ndarray, split: str, backend: EffectBackend, where: Path) -> None:
    """Refuse output with NaN, output that clips (touches full scale) and output equal to the input."""
    if not np.all(np.isfinite(target)):
        raise ReaDDSPError(f"the {split} output contains NaN or infinity", where)
    peak = float(np.max(np.abs(target)))
    if peak >= FULL_SCALE:
        raise ReaDDSPError(f"the {backend.name} output of the {split} split reaches full scale (peak {peak:.4f}), "
                           f"so it clipped inside the processor: {backend.clip_hint}", where)  # fmt: skip


def check_changed(targets: dict[str, np.ndarray], inputs: dict[str, np.ndarray], backend: EffectBackend,
                  where: Path) -> None:  # fmt: skip
    """Refuse a build whose every output equals its input: nothing was captured."""
    for split, target in targets.items():
        if float(np.max(np.abs(target - inputs[split]))) > UNCHANGED_TOLERANCE * float(np.max(np.abs(inputs[split]))):
            return
    raise ReaDDSPError(f"the {backend.name} output equals its input, so the effect did nothing: "
                       f"{backend.unchanged_hint}", where)  # fmt: skip


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
    backend: EffectBackend | None = None,
    audio_folder: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = True,
    level_db: float = 0.0,
) -> Path:
    """Build DIR with {split}_input.wav / {split}_target.wav and manifest.json; all or nothing.

    `backend` renders the inputs (default: pedalboard); `level_db` is the capture level (input gain)."""
    backend = backend if backend is not None else PedalboardBackend()
    if not minutes > 0:
        raise ReaDDSPError(f"--minutes must be positive, got {minutes}")
    if not -40.0 <= level_db <= 12.0:
        raise ReaDDSPError(f"--level must be between -40 and +12 dB, got {level_db}")
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
                spec, i, 60.0 * minutes * SPLIT_FRACTIONS[split], seed, folder, level_db
            )
            bar.update()
        raw = backend.process(spec, inputs, tmp / "work")
        bar.update(len(SPLITS))
        splits, sha, targets = {}, {}, {}
        max_latency = int(MAX_LATENCY_SECONDS * spec.sample_rate)
        for split in SPLITS:
            latency, lags = measure_latency(raw[split], impulses[split], max_latency)
            # a backend that compensates plugin latency leaves only the effect's own onset (e.g. a cab IR)
            shift = 0 if backend.compensates_latency else latency
            target = align(raw[split], shift, len(inputs[split]), f"{split} ({backend.name} backend)")
            check_output(target, split, backend, spec.path)
            targets[split] = target
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
        check_changed(targets, inputs, backend, spec.path)
        fxchain = spec.reaper_fxchain
        reaper = backend.name == "reaper"
        manifest = manifest_dict(
            name=spec.name,
            sample_rate=spec.sample_rate,
            backend=backend.name,
            seed=seed,
            level_db=level_db,
            minutes=minutes,
            tail_seconds=spec.tail_seconds,
            tails_kept=True,
            chain_spec_file=str(spec.path),
            chain_spec=spec.raw,
            fxchain_file=str(fxchain) if fxchain and reaper else None,
            fxchain_text=fxchain.read_text(errors="replace") if fxchain and reaper else None,
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
