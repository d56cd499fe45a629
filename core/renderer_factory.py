"""Pick and load the bundles a render needs: a named bundle, the bundle of `--instrument`, or every bundle that the
program mapping (across all installed instruments) chooses for a performance's parts, in one `Renderer`."""

from __future__ import annotations

from pathlib import Path

from readdsp.core.bundle import DEFAULT_BUNDLE, calibration_gains_db, load_bundle, resolve_bundle
from readdsp.core.instrument_index import bundle_for_instrument, installed_instruments
from readdsp.core.model_set import ModelSet
from readdsp.core.performance import Performance
from readdsp.core.programs import instrument_for_part
from readdsp.core.render import Renderer, model_for


def bundles_for(performance: Performance) -> list[Path]:
    """The bundles holding the instruments the program mapping picks for the performance's parts (default first)."""
    installed = {entry.name: entry.bundle for entry in installed_instruments()}
    if not installed:
        return [resolve_bundle(None)]
    needed: list[Path] = []
    for part in performance.parts:
        name = instrument_for_part(part, available=installed) if part.notes and not part.is_drum else None
        if name is not None and installed[name] not in needed:
            needed.append(installed[name])
    needed.sort(key=lambda path: path.stem != DEFAULT_BUNDLE)
    return needed or [resolve_bundle(None)]


def load_renderer(
    bundle: str | Path | None = None, instrument: str | None = None, performance: Performance | None = None
) -> Renderer:
    """A Renderer on `bundle` if named; else on the bundle holding `instrument`; else on every bundle the
    performance's parts map to (several bundles share one Renderer through a `ModelSet`)."""
    if bundle is not None:
        return Renderer.load(bundle)
    if instrument is not None:
        return Renderer.load(bundle_for_instrument(instrument))
    paths = bundles_for(performance) if performance is not None else [resolve_bundle(None)]
    if len(paths) == 1:
        return Renderer.load(paths[0])
    bundles = [load_bundle(path) for path in paths]
    levels: dict[str, float] = {}
    for loaded in reversed(bundles):  # the first bundle's level wins for an instrument two bundles hold
        levels.update(calibration_gains_db(loaded))
    return Renderer(ModelSet([model_for(loaded) for loaded in bundles]), None, levels)
