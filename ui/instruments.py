"""Every installed instrument (bundled and user bundles) for the instrument picker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from readdsp.core.bundle import bundle_paths, read_bundle_config
from readdsp.core.errors import ReaDDSPError


@dataclass(frozen=True)
class InstrumentChoice:
    bundle: Path
    instrument: str | None  # None: each part's own instrument (program mapping)

    def label(self) -> str:
        return f"{self.bundle.stem}: {self.instrument or 'auto (program mapping)'}"


def installed_instruments(extra_bundles: list[Path] | None = None) -> list[InstrumentChoice]:
    """Auto plus each instrument of each readable bundle; `extra_bundles` (e.g. --bundle) come first."""
    paths = [Path(p) for p in extra_bundles or []]
    paths += [p for p, _ in bundle_paths() if p not in paths]
    choices = []
    for path in paths:
        try:
            names = read_bundle_config(path)["instruments"]
        except (ReaDDSPError, KeyError):
            continue
        choices += [InstrumentChoice(path, None)] + [InstrumentChoice(path, name) for name in names]
    return choices
