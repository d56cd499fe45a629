"""Check an output path before any work starts: not a directory, not under a regular file, in a writable folder."""

from __future__ import annotations

import os
import re
import tempfile
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
    try:  # what os.access cannot tell (root, read-only or pseudo file systems): create and drop a file there
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise ReaDDSPError(f"cannot write in {folder} ({err.strerror or err})", path) from None
    return path


def safe_file_stem(
    label: str, keep: str = "-_", *, runs: bool = False, strip: str = "", max_length: int = 0, fallback: str = ""
) -> str:
    """`label` as a file name stem: letters, digits and the characters in `keep` stay, anything else becomes '_'.

    By default each other character becomes one '_' and Unicode letters and digits stay (part labels as stem
    files). With `runs`, only ASCII letters and digits stay and each run of other characters becomes one '_'
    (example ids, take names). Then `strip` is stripped from both ends, the stem is cut to `max_length` (0: no
    limit), and an empty stem becomes `fallback`.
    """
    if runs:
        stem = re.sub(f"[^A-Za-z0-9{re.escape(keep)}]+", "_", label)
    else:
        stem = "".join(ch if ch.isalnum() or ch in keep else "_" for ch in label)
    stem = stem.strip(strip) if strip else stem
    return (stem[:max_length] if max_length else stem) or fallback
