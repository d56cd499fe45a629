"""REAPER item state chunks as rpp Elements: split takes, read take fields and P_EXT (the simulator also edits).

Projects and live items are edited as text (`rpp_text.py`), never written back through `rpp`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import rpp
from rpp import Element

from readdsp.reaper_ext.rpp_read import loads

#: Lines and blocks that belong to a take rather than to the item (REAPER's state chunk layout).
TAKE_FIELDS = {
    "NAME",
    "VOLPAN",
    "SOFFS",
    "PLAYRATE",
    "CHANMODE",
    "GUID",
    "SOURCE",
    "TAKECOLOR",
    "TAKEFX",
    "EXT",
}


def _tag(child: Element | list | str) -> str:
    if isinstance(child, Element):
        return child.tag
    if isinstance(child, str):  # rpp gives a one-word line (e.g. a bare TAKE) as a plain string
        return child
    return child[0] if child else ""


@dataclass
class TakeChunk:
    """One take's lines and blocks inside an item chunk; `active` marks the take REAPER plays."""

    children: list = field(default_factory=list)
    active: bool = False

    def value(self, key: str, default: str | None = None) -> str | None:
        for child in self.children:
            if isinstance(child, list) and child and child[0] == key:
                return child[1] if len(child) > 1 else ""
        return default

    def values(self, key: str) -> list[str] | None:
        for child in self.children:
            if isinstance(child, list) and child and child[0] == key:
                return child[1:]
        return None

    def set_value(self, key: str, *values: str) -> None:
        for i, child in enumerate(self.children):
            if isinstance(child, list) and child and child[0] == key:
                self.children[i] = [key, *values]
                return
        self.children.insert(0, [key, *values])

    @property
    def source(self) -> Element | None:
        for child in self.children:
            if isinstance(child, Element) and child.tag == "SOURCE":
                return child
        return None

    @property
    def guid(self) -> str | None:
        return self.value("GUID")

    @property
    def name(self) -> str:
        return self.value("NAME", "") or ""

    def ext(self) -> dict[str, str]:
        """The take's extended state (`P_EXT:key` values), stored in an `<EXT` block."""
        for child in self.children:
            if isinstance(child, Element) and child.tag == "EXT":
                return {line[0]: (line[1] if len(line) > 1 else "") for line in child.children if line}
        return {}

    def set_ext(self, key: str, value: str) -> None:
        block = next((c for c in self.children if isinstance(c, Element) and c.tag == "EXT"), None)
        if block is None:
            block = Element("EXT", [], [])
            self.children.append(block)
        block.children = [line for line in block.children if line and line[0] != key]
        if value != "":
            block.children.append([key, value])


@dataclass
class ItemChunk:
    """An item split into its own lines (`header`) and its takes, in order."""

    element: Element
    header: list
    takes: list[TakeChunk]

    @classmethod
    def parse(cls, item: Element) -> ItemChunk:
        header: list = []
        takes: list[TakeChunk] = []
        for child in item.children:
            tag = _tag(child)
            if tag == "TAKE":
                takes.append(TakeChunk([], active=isinstance(child, list) and child[1:2] == ["SEL"]))
            elif takes:
                takes[-1].children.append(child)
            elif tag in TAKE_FIELDS:
                takes.append(TakeChunk([child]))
            else:
                header.append(child)
        if takes and not any(t.active for t in takes):
            takes[0].active = True
        return cls(item, header, takes)

    @property
    def active_index(self) -> int:
        return next((i for i, t in enumerate(self.takes) if t.active), -1)

    def set_active(self, index: int) -> None:
        for i, take in enumerate(self.takes):
            take.active = i == index

    def header_value(self, key: str, default: str | None = None) -> str | None:
        for child in self.header:
            if isinstance(child, list) and child and child[0] == key:
                return child[1] if len(child) > 1 else ""
        return default

    def set_header_value(self, key: str, *values: str) -> None:
        for i, child in enumerate(self.header):
            if isinstance(child, list) and child and child[0] == key:
                self.header[i] = [key, *values]
                return
        self.header.append([key, *values])

    def to_element(self) -> Element:
        """Write header and takes back into the wrapped Element (in place) and return it."""
        children = list(self.header)
        for i, take in enumerate(self.takes):
            if i > 0:  # the first take is active exactly when no later take says TAKE SEL
                children.append(["TAKE", "SEL"] if take.active else ["TAKE"])
            children.extend(take.children)
        self.element.children = children
        return self.element

    def to_text(self) -> str:
        return rpp.dumps(self.to_element())


def new_guid() -> str:
    return "{" + str(uuid.uuid4()).upper() + "}"


def parse_item_text(text: str) -> ItemChunk:
    element = loads(text)
    if element.tag != "ITEM":
        raise ValueError(f"expected an <ITEM chunk, got <{element.tag}")
    return ItemChunk.parse(element)
