"""Every installed instrument across bundles (bundled and user): which bundle holds it, its family, rate and CCs.

A user bundle holding an instrument of the same name as a bundled one wins (it is listed later and replaces it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from readdsp.core.bundle import bundle_paths, read_bundle_config
from readdsp.core.errors import ReaDDSPError


@dataclass(frozen=True)
class InstalledInstrument:
    name: str
    bundle: Path
    family: str
    sample_rate: int
    ccs: tuple[str, ...]  # "CC55 Openness (default 127)"
    user: bool


def _cc_labels(config: dict) -> tuple[str, ...]:
    labels = []
    for cc in config.get("style_ccs", []):
        if isinstance(cc, dict):
            labels.append(f"CC{cc.get('number')} {cc.get('display', cc.get('name', ''))} (default {cc.get('default')})")
    if config.get("model", "midi-ddsp") == "midi-ddsp":
        labels.append("CC11 Expression (gain)")
    return tuple(labels)


def installed_instruments(warnings: list[str] | None = None) -> list[InstalledInstrument]:
    """One entry per instrument name; an unreadable bundle is left out with a line in `warnings`."""
    found: dict[str, InstalledInstrument] = {}
    for path, is_user in bundle_paths():
        try:
            config = read_bundle_config(path)
            family = str(config.get("model", "midi-ddsp"))
            rate = int(config["sample_rate"])
            names = [str(n) for n in config["instruments"]]
        except (ReaDDSPError, KeyError, TypeError, ValueError) as err:
            if warnings is not None:
                warnings.append(f"{path}: skipped ({err})")
            continue
        for name in names:
            found[name] = InstalledInstrument(name, path, family, rate, _cc_labels(config), is_user)
    return list(found.values())


def bundle_for_instrument(name: str) -> Path:
    """The bundle that holds instrument `name`; a one-line error listing the installed instruments otherwise."""
    installed = installed_instruments()
    for entry in installed:
        if entry.name == name:
            return entry.bundle
    known = ", ".join(sorted(e.name for e in installed)) or "none installed"
    raise ReaDDSPError(f"unknown instrument {name!r}; installed: {known}")
