"""The one exception type users see: a single line naming the file and the problem."""

from __future__ import annotations

from pathlib import Path


class ReaDDSPError(Exception):
    """A user-facing error; `str()` is one line such as `song.mid: not a MIDI file`."""

    def __init__(self, problem: str, path: str | Path | None = None):
        self.path = None if path is None else str(path)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.path}: {self.problem}" if self.path else self.problem)
