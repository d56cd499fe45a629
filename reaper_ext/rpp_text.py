"""Edit REAPER chunk text in place: find chunks by line, add a take or a chunk, rewrite media paths; nothing else.

`rpp` is used to read a project's structure, never to write one: `rpp.dumps` changes quoting (backticks, a
leading `#`), strips trailing spaces and line endings. These functions work on the original text, line by line
with their own line endings, so a diff of input and output shows only the lines they mean to change.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

_QUOTES = "\"'`"


@dataclass(frozen=True)
class ChunkSpan:
    """Lines [start, end] of a `<TAG ...` chunk (end = its closing `>` line), its tag and its parents' tags."""

    start: int
    end: int
    tag: str
    path: tuple[str, ...]


def split_lines(text: str) -> list[str]:
    """Lines with their own endings (\\n, \\r\\n or none), so that "".join gives the text back."""
    return text.splitlines(keepends=True)


def newline_of(lines: list[str]) -> str:
    for line in lines:
        if line.endswith("\r\n"):
            return "\r\n"
        if line.endswith("\n"):
            return "\n"
    return "\n"


def tokens(line: str) -> list[tuple[str, int, int]]:
    """REAPER's tokens of one line as (value, start, end) offsets: space separated, "..." '...' `...` quoted."""
    out = []
    i, n = 0, len(line.rstrip("\r\n"))
    while i < n:
        if line[i] in " \t":
            i += 1
            continue
        if line[i] in _QUOTES:
            close = line.find(line[i], i + 1)
            close = n - 1 if close < 0 else close
            out.append((line[i + 1 : close], i, close + 1))
            i = close + 1
        else:
            j = i
            while j < n and line[j] not in " \t":
                j += 1
            out.append((line[i:j], i, j))
            i = j
    return out


def quote(value: str) -> str:
    """A token as REAPER writes it: bare when it can be, else quoted with a quote character it does not hold."""
    if value and not re.search(r"[\s\"'`]", value) and value[0] not in "#;<>":
        return value
    for char in _QUOTES:
        if char not in value:
            return f"{char}{value}{char}"
    return "`" + value.replace("`", "'") + "`"


def chunk_spans(lines: list[str]) -> list[ChunkSpan]:
    """Every chunk in document order."""
    spans: list[ChunkSpan] = []
    stack: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("<"):
            tag = stripped[1:].split(None, 1)[0] if len(stripped) > 1 else ""
            stack.append((index, tag))
        elif stripped == ">" and stack:
            start, tag = stack.pop()
            spans.append(ChunkSpan(start, index, tag, tuple(t for _, t in stack)))
    return sorted(spans, key=lambda s: s.start)


def top_tracks(lines: list[str], spans: list[ChunkSpan] | None = None) -> list[ChunkSpan]:
    """The top-level `<TRACK` spans, in order (the order `rpp` parses them in)."""
    spans = chunk_spans(lines) if spans is None else spans
    return [s for s in spans if s.tag == "TRACK" and s.path == ("REAPER_PROJECT",)]


def track_items(lines: list[str]) -> list[list[ChunkSpan]]:
    """The `<ITEM` spans of each top-level `<TRACK`, in order (the order `rpp` parses them in)."""
    spans = chunk_spans(lines)
    tracks = top_tracks(lines, spans)
    return [
        [s for s in spans if s.tag == "ITEM" and s.path[-1:] == ("TRACK",) and t.start < s.start < t.end]
        for t in tracks
    ]


def _own_lines(lines: list[str], span: ChunkSpan) -> list[int]:
    """Indexes of the lines directly inside `span` (not inside its sub-chunks)."""
    out, depth = [], 0
    for index in range(span.start + 1, span.end):
        stripped = lines[index].strip()
        if stripped.startswith("<"):
            depth += 1
        elif stripped == ">":
            depth -= 1
        elif depth == 0:
            out.append(index)
    return out


def indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def take_lines(name: str, wav: str, guid: str, ext: dict[str, str]) -> list[str]:
    """A take's lines (without indentation or line endings): plays `wav` from its start at rate 1, P_EXT `ext`."""
    lines = [
        "TAKE SEL",
        f"NAME {quote(name)}",
        "VOLPAN 1 0 1 -1",
        "SOFFS 0",
        "PLAYRATE 1 1 0 -1 0 0.0025",
        "CHANMODE 0",
        f"GUID {guid}",
        "<SOURCE WAVE",
        f"  FILE {quote(wav)}",
        ">",
    ]
    if ext:
        lines += ["<EXT", *(f"  {quote(k)} {quote(v)}" for k, v in ext.items()), ">"]
    return lines


def add_active_take(lines: list[str], item: ChunkSpan, new_take: list[str]) -> list[str]:
    """The item's lines with `new_take` appended and made active (a `TAKE SEL` line becomes `TAKE`)."""
    newline = newline_of(lines)
    own = _own_lines(lines, item)
    indent = indent_of(lines[own[0]]) if own else indent_of(lines[item.start]) + "  "
    out = lines[item.start : item.end]
    for index in own:
        toks = tokens(lines[index])
        if [t[0] for t in toks[:2]] == ["TAKE", "SEL"]:
            line = lines[index]
            out[index - item.start] = line[: toks[0][2]] + line[toks[1][2] :]
    if out and not out[-1].endswith(("\n", "\r")):
        out[-1] += newline
    out += [indent + text + newline for text in new_take]
    return out + [lines[item.end]]


def insert_after(lines: list[str], span: ChunkSpan, chunk: list[str]) -> list[str]:
    """`lines` with `chunk` (lines without indentation or endings) inserted after `span`'s closing line, at its
    indentation and with the text's line ending; every other byte stays."""
    newline = newline_of(lines)
    indent = indent_of(lines[span.end])
    closing = lines[span.end] if lines[span.end].endswith(("\n", "\r")) else lines[span.end] + newline
    added = [indent + text + newline for text in chunk]
    return [*lines[: span.end], closing, *added, *lines[span.end + 1 :]]


def rewrite_media_paths(lines: list[str], source_dir: Path, target_dir: Path) -> list[str]:
    """`FILE` lines inside `<SOURCE` chunks with a relative path: rewritten to resolve from `target_dir`."""
    if source_dir.resolve() == target_dir.resolve():
        return lines
    out = list(lines)
    for span in chunk_spans(lines):
        if span.tag != "SOURCE":
            continue
        for index in _own_lines(lines, span):
            toks = tokens(lines[index])
            if len(toks) < 2 or toks[0][0] != "FILE" or not toks[1][0] or os.path.isabs(toks[1][0]):
                continue
            resolved = (source_dir / toks[1][0]).resolve()
            try:
                moved = os.path.relpath(resolved, target_dir.resolve())
            except ValueError:  # another drive (Windows): only an absolute path resolves
                moved = str(resolved)
            line = lines[index]
            quote_char = line[toks[1][1]]
            keep = quote_char in _QUOTES and quote_char not in moved
            out[index] = (
                line[: toks[1][1]] + (f"{quote_char}{moved}{quote_char}" if keep else quote(moved)) + line[toks[1][2] :]
            )
    return out


def add_take_to_item_text(item_text: str, new_take: list[str]) -> str:
    """An item state chunk (`<ITEM ... >` text, as REAPER's GetItemStateChunk gives it) with `new_take` added
    and made active; every other byte stays."""
    lines = split_lines(item_text)
    item = next((s for s in chunk_spans(lines) if s.tag == "ITEM" and not s.path), None)
    if item is None:
        raise ValueError("not an <ITEM chunk")
    return "".join(lines[: item.start] + add_active_take(lines, item, new_take) + lines[item.end + 1 :])
