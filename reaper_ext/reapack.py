"""Generate a ReaPack `index.xml` from the action scripts' metadata headers (@description, @version, ...)."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree as ET

CATEGORY = "ReaDDSP"
TAG = re.compile(r"^#\s*@(\w+)\s*(.*)$")


def read_header(path: Path) -> dict[str, str]:
    """The leading `# @tag value` lines (indented `#   ...` lines continue the previous tag)."""
    tags: dict[str, str] = {}
    last = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = TAG.match(line)
        if match:
            last = match.group(1)
            tags[last] = match.group(2).strip()
        elif line.startswith("#  ") and last:
            tags[last] += "\n" + line[1:].strip()
        else:
            break
    return tags


def build_index(scripts: list[Path], helper: Path, base_url: str, name: str = "ReaDDSP") -> str:
    """index.xml text: one reapack (type script) per action, each also shipping the shared helper."""
    index = ET.Element("index", version="1", name=name)
    category = ET.SubElement(index, "category", name=CATEGORY)
    for script in scripts:
        tags = read_header(script)
        if "noindex" in tags or "version" not in tags:
            continue
        package = ET.SubElement(category, "reapack", name=script.name, type="script", desc=tags.get("description", ""))
        if tags.get("about"):
            metadata = ET.SubElement(package, "metadata")
            ET.SubElement(metadata, "description").text = tags["about"]
        version = ET.SubElement(package, "version", name=tags["version"], author=tags.get("author", ""))
        main = ET.SubElement(version, "source", main="main", file=script.name)
        main.text = f"{base_url.rstrip('/')}/{script.name}"
        extra = ET.SubElement(version, "source", file=helper.name)
        extra.text = f"{base_url.rstrip('/')}/{helper.name}"
    ET.indent(index)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(index, encoding="unicode") + "\n"
