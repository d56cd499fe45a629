"""REAPER's batch converter: write its file list (input TAB output, <CONFIG block), run it headless."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from readdsp.core.atomic import atomic_path, write_wav
from readdsp.core.errors import ReaDDSPError

#: OUTFMT payloads (a project's <RENDER_CFG base64): "evaw" + bit depth byte.
OUTFMT_WAV_16 = "ZXZhdxAAAA=="
OUTFMT_WAV_24 = "ZXZhdxgAAA=="
OUTFMT_WAV_FLOAT32 = "ZXZhdyAAAA=="
REAPER_ENV = "READDSP_REAPER"


@dataclass
class BatchConfig:
    """The <CONFIG block: output rate/channels, tail padding, the FX chain file, output format."""

    sample_rate: int | None = None
    n_channels: int | None = None
    pad_end: float = 0.0
    fx_chain: Path | None = None
    outfmt: str = OUTFMT_WAV_24


def _quote(text: str) -> str:
    """Quote a value the way REAPER's config parser accepts: the first of ' \" ` that the text lacks."""
    for mark in ("'", '"', "`"):
        if mark not in text:
            return f"{mark}{text}{mark}"
    raise ReaDDSPError("path contains all three quote characters ' \" ` and cannot be written", text)


def _check_path(path: Path) -> str:
    text = str(Path(path).resolve())
    if any(c in text for c in "\t\r\n"):
        raise ReaDDSPError("path contains a tab or newline, which REAPER's file list cannot hold", text)
    return text


def batch_list_text(pairs: Sequence[tuple[Path, Path]], config: BatchConfig) -> str:
    """The file list text: one `input<TAB>output` line per pair, then the <CONFIG block."""
    if not pairs:
        raise ReaDDSPError("no files to convert")
    lines = ["# REAPER batch converter list written by readdsp"]
    lines += [f"{_check_path(src)}\t{_check_path(dst)}" for src, dst in pairs]
    lines.append("<CONFIG")
    if config.sample_rate:
        lines.append(f"  SRATE {int(config.sample_rate)}")
    if config.n_channels:
        lines.append(f"  NCH {int(config.n_channels)}")
    lines.append(f"  PAD_END {config.pad_end:.3f}")
    if config.fx_chain is not None:
        if not Path(config.fx_chain).is_file():
            raise ReaDDSPError("FX chain file not found", config.fx_chain)
        lines.append(f"  FXCHAIN {_quote(_check_path(config.fx_chain))}")
    lines += ["  <OUTFMT", f"    {config.outfmt}", "  >", ">"]
    return "\n".join(lines) + "\n"


def write_batch_list(path: str | Path, pairs: Sequence[tuple[Path, Path]], config: BatchConfig) -> Path:
    """Write the list atomically; returns its path."""
    text = batch_list_text(pairs, config)
    with atomic_path(path, ".txt") as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def find_reaper() -> Path | None:
    """REAPER's executable: $READDSP_REAPER if set, else `reaper` on PATH, else None."""
    env = os.environ.get(REAPER_ENV)
    if env:
        return Path(env)
    found = shutil.which("reaper") or shutil.which("REAPER")
    return Path(found) if found else None


def run_batch_convert(
    list_path: str | Path, outputs: Sequence[Path], reaper: str | Path | None = None, timeout: float = 600.0
) -> None:
    """Run `reaper -nosplash -batchconvert LIST`; raise unless it exits 0 in time and writes every output."""
    exe = Path(reaper) if reaper else find_reaper()
    if exe is None:
        raise ReaDDSPError(f"REAPER not found: set {REAPER_ENV} to its executable or put `reaper` on PATH")
    if not exe.exists():
        raise ReaDDSPError("REAPER executable not found", exe)
    cmd = [str(exe), "-nosplash", "-batchconvert", str(Path(list_path).resolve())]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        raise ReaDDSPError(f"REAPER batch convert timed out after {timeout:g} s", list_path) from err
    except OSError as err:
        raise ReaDDSPError(f"cannot start REAPER ({err})", exe) from err
    if result.returncode != 0:
        tail = (result.stderr or result.stdout or "").strip().splitlines()[-1:] or ["no output"]
        raise ReaDDSPError(f"REAPER batch convert failed with exit code {result.returncode}: {tail[0]}", list_path)
    missing = [str(p) for p in outputs if not Path(p).is_file()]
    if missing:
        raise ReaDDSPError(
            f"REAPER batch convert wrote no output for {len(missing)} file(s), e.g. {missing[0]}", list_path
        )


class ReaperBatchBackend:
    """The dataset builder's REAPER backend: every split through `reaper -batchconvert` with the spec's .RfxChain.

    It satisfies readdsp.datasets.effects.backend.EffectBackend without importing it (reaper_ext and datasets
    do not import each other); the spec needs `sample_rate`, `tail_seconds`, `reaper_fxchain` and `path`.
    """

    name = "reaper"
    compensates_latency = False
    unchanged_hint = "the FX chain did nothing (is it bypassed, or did a plugin fail to load?)"
    clip_hint = "lower --level or the plugin's output level"

    def __init__(self, reaper: str | Path | None = None, timeout: float = 600.0):
        self.reaper, self.timeout = reaper, timeout

    def process(self, spec: Any, inputs: dict[str, np.ndarray], work_dir: Path) -> dict[str, np.ndarray]:
        """Render every split in one batch; returns mono float32 outputs by split name."""
        if spec.reaper_fxchain is None:
            raise ReaDDSPError("the REAPER backend needs 'reaper': {'fxchain': 'file.RfxChain'} in the spec", spec.path)
        if not Path(spec.reaper_fxchain).is_file():
            raise ReaDDSPError(f"FX chain file not found: {spec.reaper_fxchain}", spec.path)
        work_dir.mkdir(parents=True, exist_ok=True)
        pairs = []
        for name, audio in inputs.items():
            src, dst = work_dir / f"{name}_clean.wav", work_dir / f"{name}_reaper.wav"
            write_wav(src, audio, spec.sample_rate, subtype="PCM_24")
            pairs.append((src, dst))
        config = BatchConfig(spec.sample_rate, 1, spec.tail_seconds, Path(spec.reaper_fxchain))
        list_path = write_batch_list(work_dir / "batch.txt", pairs, config)
        run_batch_convert(list_path, [dst for _, dst in pairs], reaper=self.reaper, timeout=self.timeout)
        return {name: _read_output(dst, spec.sample_rate) for name, (_, dst) in zip(inputs, pairs, strict=True)}


def _read_output(path: Path, sample_rate: int) -> np.ndarray:
    """REAPER's rendered file as mono float32, checked for its rate."""
    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as err:  # soundfile raises LibsndfileError / RuntimeError for unreadable files
        raise ReaDDSPError(f"cannot read REAPER's output ({err})", path) from err
    if rate != sample_rate:
        raise ReaDDSPError(f"REAPER wrote {rate} Hz, expected {sample_rate} Hz", path)
    return audio.mean(axis=1)
