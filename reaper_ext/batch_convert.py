"""REAPER's batch converter: write its file list (input TAB output, <CONFIG block), run it headless."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from readdsp.core.atomic import atomic_path
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
