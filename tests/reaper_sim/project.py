"""The simulator's project: an RPP file parsed with `rpp`: tracks, item chunks, tempo, save."""

from __future__ import annotations

from pathlib import Path

import rpp
from rpp import Element

from readdsp.core.tempo_map import TempoMap
from readdsp.reaper_ext.item_chunk import ItemChunk
from readdsp.reaper_ext.rpp_project import project_tempo_map


def _line(element: Element, key: str) -> list[str] | None:
    for child in element.children:
        if isinstance(child, list) and child and child[0] == key:
            return child
    return None


class SimProject:
    """A loaded project. Items keep their own `<ITEM` Elements, which `save` writes back into the tree."""

    def __init__(self, path: str | Path):
        self.path = Path(path).resolve()
        self.root: Element = rpp.loads(self.path.read_text(encoding="utf-8", errors="replace"))
        self.tracks: list[Element] = [c for c in self.root.children if isinstance(c, Element) and c.tag == "TRACK"]
        self.items: dict[int, list[ItemChunk]] = {}
        for index, track in enumerate(self.tracks):
            self.items[index] = [
                ItemChunk.parse(c) for c in track.children if isinstance(c, Element) and c.tag == "ITEM"
            ]

    # --- project settings -------------------------------------------------------------------------------
    @property
    def sample_rate(self) -> tuple[int, bool]:
        line = _line(self.root, "SAMPLERATE")
        if not line or len(line) < 2:
            return 44100, False
        return int(float(line[1])), len(line) > 2 and line[2] == "1"

    @property
    def media_folder(self) -> Path:
        line = _line(self.root, "RECORD_PATH")
        sub = line[1] if line and len(line) > 1 else ""
        return (self.path.parent / sub).resolve() if sub else self.path.parent

    def tempo_map(self) -> TempoMap:
        return project_tempo_map(self.root)

    # --- saving -----------------------------------------------------------------------------------------
    def to_text(self) -> str:
        for chunks in self.items.values():
            for chunk in chunks:
                chunk.to_element()
        return rpp.dumps(self.root)

    def save(self, path: str | Path | None = None) -> Path:
        target = Path(path) if path else self.path
        tmp = target.with_suffix(target.suffix + ".simtmp")
        tmp.write_text(self.to_text(), encoding="utf-8")
        tmp.replace(target)
        return target
