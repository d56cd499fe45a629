"""Edit REAPER's .ini files line by line: set or restore one `key=value`, append or remove a line; every other byte
(blank lines, comments, line endings, a missing final newline, a UTF-8 byte-order mark) stays as it was.

Keys and section names match case-insensitively, as REAPER reads its ini files (GetPrivateProfileString and
WDL's version of it): `CSURF_CNT=2` written by hand is the `csurf_cnt` install counts from, and keeps its spelling.
"""

from __future__ import annotations

from pathlib import Path

from readdsp.core.atomic import write_bytes
from readdsp.reaper_ext.rpp_text import newline_of, split_lines


def read_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return split_lines(path.read_bytes().decode("utf-8", errors="surrogateescape"))


def write_lines(path: Path, lines: list[str]) -> None:
    write_bytes(path, "".join(lines).encode("utf-8", errors="surrogateescape"))


def _body(line: str) -> str:
    return line.rstrip("\r\n")


def _ending(line: str) -> str:
    return line[len(_body(line)) :]


def _section_of(line: str) -> str | None:
    body = _body(line).lstrip("\ufeff").strip()
    return body[1:-1].strip().lower() if body.startswith("[") and body.endswith("]") else None


def values(lines: list[str]) -> dict[tuple[str, str], str]:
    """{(section lower-cased, key): value} of `key=value` lines; a later duplicate wins, as in REAPER."""
    out: dict[tuple[str, str], str] = {}
    section = ""
    for line in lines:
        found = _section_of(line)
        if found is not None:
            section = found
        elif "=" in line:
            key, value = _body(line).split("=", 1)
            out[(section, key.strip().lower())] = value.strip()
    return out


def find(lines: list[str], section: str, key: str) -> int | None:
    """Index of the (last) `key=` line in `section`, or None."""
    current, found = "", None
    for index, line in enumerate(lines):
        header = _section_of(line)
        if header is not None:
            current = header
        elif current == section.lower() and "=" in line and _body(line).split("=", 1)[0].strip().lower() == key.lower():
            found = index
    return found


def ensure_final_newline(lines: list[str]) -> bool:
    """Give the last line an ending (so a line can follow it); True if one was added."""
    if lines and not _ending(lines[-1]):
        lines[-1] += newline_of(lines)
        return True
    return False


def set_value(lines: list[str], section: str, key: str, value: str) -> tuple[str | None, bool]:
    """Set `key=value` in `section` (in place); returns (the line it replaced or None, whether the section was added).

    A new key goes after the section's last non-blank line; a new section goes at the end of the file.
    """
    index = find(lines, section, key)
    if index is not None:
        old = _body(lines[index])
        lines[index] = f"{old.split('=', 1)[0]}={value}{_ending(lines[index])}"
        return old, False
    newline = newline_of(lines)
    start = next((i for i, line in enumerate(lines) if _section_of(line) == section.lower()), None)
    if start is None:
        lines += [f"[{section}]{newline}", f"{key}={value}{newline}"]
        return None, True
    end = start
    for i in range(start + 1, len(lines)):
        if _section_of(lines[i]) is not None:
            break
        if _body(lines[i]).strip():
            end = i
    lines.insert(end + 1, f"{key}={value}{newline}")
    return None, False


def restore_value(lines: list[str], section: str, key: str, installed: str, original: str | None) -> bool:
    """Put back `original` (a whole line, or None = no such key) if the key still holds `installed`."""
    index = find(lines, section, key)
    if index is None or values([lines[index]]).get(("", key.lower())) != installed:
        return False  # the user changed it since: theirs stays
    if original is None:
        del lines[index]
    else:
        lines[index] = original + _ending(lines[index])
    return True


def remove_section_if_empty(lines: list[str], section: str) -> None:
    start = next((i for i, line in enumerate(lines) if _section_of(line) == section.lower()), None)
    if start is None:
        return
    end = next((i for i in range(start + 1, len(lines)) if _section_of(lines[i]) is not None), len(lines))
    if not any(_body(line).strip() for line in lines[start + 1 : end]):
        del lines[start:end]


def remove_line(lines: list[str], text: str) -> bool:
    """Remove the last line whose text (without its ending) is `text`."""
    for index in range(len(lines) - 1, -1, -1):
        if _body(lines[index]) == text:
            del lines[index]
            return True
    return False
