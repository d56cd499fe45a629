"""Check an output path before any work starts: not a directory, not under a regular file, in a writable folder."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from readdsp.core.errors import ReaDDSPError


def check_output_file(path: str | Path, suffixes: Sequence[str] = ()) -> Path:
    """`path` if a file can be written there (its folders may not exist yet); a ReaDDSPError otherwise."""
    path = Path(path)
    if suffixes and path.suffix.lower() not in {s.lower() for s in suffixes}:
        raise ReaDDSPError(f"output must be a {' or '.join(suffixes)} file", path)
    if path.is_dir():
        raise ReaDDSPError("output is a directory; name a file", path)
    folder = path.absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise ReaDDSPError(f"cannot write under {folder}: it is a file, not a folder", path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReaDDSPError(f"no permission to write in {folder}", path)
    return path


def safe_file_stem(label: str) -> str:
    """A part label as a file name stem: letters, digits, '-' and '_' kept, anything else '_'."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in label)
