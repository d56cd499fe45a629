"""Parse REAPER chunk text into `rpp` Elements in linear time, giving what `rpp.loads` gives.

`rpp.loads` (rpp 0.5) is quadratic in the number of lines (its grammar is right-recursive and copies the list of
children at every step: 100,000 lines take about a minute), so a project with many MIDI events could hold a render
for hours before any of its numbers were checked. This reader takes the same tokens per line as rpp's scanner
(space separated; "..." '...' `...` quoted; a line starting with `|` is one token; `<` opens a chunk and `>` closes
it when they come first on a line) and builds the same tree: a chunk is `Element(tag, attrib, children)`, a line
of one token is that string, a line of several is a list of strings. Text that rpp refuses is refused with a
ValueError naming the line (a blank line, where rpp fails with an IndexError, too).
"""

from __future__ import annotations

import sys

from rpp import Element

_QUOTES = "\"'`"
_SHORT = 4  # tokens this short (event bytes, deltas, flags) are interned: a MIDI-heavy project shares them


def _token(value: str) -> str:
    return sys.intern(value) if len(value) <= _SHORT else value


def line_tokens(line: str, lineno: int) -> tuple[str, list[str]]:
    """("<", ">" or "", the line's string tokens): how rpp's scanner reads one line."""
    mark, values, first = "", [], True
    rest = line.strip()
    if not rest:
        raise ValueError(f"syntax error at line {lineno}, token=NEWLINE")
    while rest:
        if rest[0] in _QUOTES:
            close = rest.find(rest[0], 1)
            if close < 0:
                raise ValueError(f"closing quote not found at line {lineno}")
            values.append(_token(rest[1:close]))
            rest = rest[close + 1 :].strip()
            first = False
            continue
        if first and rest[0] in "<>":
            mark, rest = rest[0], rest[1:]
        elif first and rest[0] == "|":
            values.append(rest)
            break
        first = False
        if rest:
            pair = rest.split(maxsplit=1)
            values.append(_token(pair[0]))
            rest = pair[1].strip() if len(pair) > 1 else ""
    return mark, values


def loads(text: str) -> Element:
    """The one top-level chunk of `text` as an Element; ValueError (rpp's messages) when it is not one."""
    stack: list[Element] = []
    root: Element | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if root is not None:
            raise ValueError(f"syntax error at line {lineno}, token=STRING")
        mark, values = line_tokens(line, lineno)
        if mark == "<":
            if not values:
                raise ValueError(f"syntax error at line {lineno}, token=NEWLINE")
            stack.append(Element(values[0], attrib=values[1:], children=[]))
        elif mark == ">":
            if values or not stack:
                raise ValueError(f"syntax error at line {lineno}, token={'STRING' if values else 'CLOSE'}")
            element = stack.pop()
            if stack:
                stack[-1].children.append(element)
            else:
                root = element
        elif not stack:
            raise ValueError(f"syntax error at line {lineno}, token=STRING")
        else:
            stack[-1].children.append(values[0] if len(values) == 1 else values)
    if root is None:
        raise ValueError("syntax error at EOF")
    return root
