"""A network's config read from a bundle file: known settings only, each of the right type and in range."""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path
from typing import TypeVar

from readdsp.core.errors import ReaDDSPError

Config = TypeVar("Config")

#: Sizes, strides and dilations of the bundled networks are at most a few hundred; a file asking for more is damaged
#: (or hostile), and building it would take the memory of the machine.
MAX_SIZE = 4096
SAMPLE_RATES = (8000, 192000)


def config_from(
    cls: type[Config], values: object, section: str, where: str | Path | None, defaults: dict | None = None
) -> Config:
    """`cls` from a bundle's JSON `section` (over `defaults`: what bundles made before a setting existed meant); an
    unknown setting, a wrong type, a size outside 1..MAX_SIZE or a number that is not finite and non-negative is a
    one-line ReaDDSPError naming the bundle (`where`)."""
    if not isinstance(values, dict):
        raise ReaDDSPError(f"bundle config {section!r} is not a table of settings", where)
    values = (defaults or {}) | values
    kinds = {field.name: _kind(field.type) for field in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(kinds))
    if unknown:
        raise ReaDDSPError(
            f"bundle config {section!r} has settings this readdsp does not know: {', '.join(map(str, unknown))} "
            "(was it made by a newer version?)",
            where,
        )
    checked = {name: _checked(value, kinds[name], f"{section}.{name}", where) for name, value in values.items()}
    try:
        return cls(**checked)
    except TypeError as err:  # a setting without a default is missing
        raise ReaDDSPError(f"bundle config {section!r} is incomplete ({err})", where) from None


def instruments_and_rate(config: dict, n_instruments: int, where: str | Path | None) -> tuple[list[str], int]:
    """The bundle's instrument names (1 to `n_instruments`, the rows its networks hold) and its sample rate, checked."""
    names = config.get("instruments")
    if not isinstance(names, list) or not names or not all(isinstance(name, str) and name for name in names):
        raise ReaDDSPError("bundle config 'instruments' must be a non-empty list of names", where)
    if len(names) > n_instruments:
        raise ReaDDSPError(f"bundle names {len(names)} instruments but its networks hold {n_instruments}", where)
    rate = config.get("sample_rate")
    low, high = SAMPLE_RATES
    if isinstance(rate, bool) or not isinstance(rate, int) or not low <= rate <= high:
        raise ReaDDSPError(f"bundle sample rate must be a whole number of Hz from {low} to {high}, not {rate!r}", where)
    return names, rate


def setting_in(
    config: dict, key: str, default: float, bounds: tuple[float, float], where: str | Path | None, whole: bool = False
) -> float:
    """A number from a bundle's config (`default` when absent): finite, within `bounds` and, with `whole`, a whole
    number; otherwise a one-line ReaDDSPError naming the bundle."""
    return _number_in(config.get(key, default), key, bounds, where, whole)


def _kind(annotation: object) -> str:
    """A field's type as written ("int", "tuple[int, ...]"), whether or not its module postpones annotations."""
    if isinstance(annotation, str):
        return annotation
    return annotation.__name__ if isinstance(annotation, type) else str(annotation)


def _checked(value: object, kind: str, name: str, where: str | Path | None) -> object:
    if kind == "bool":
        if not isinstance(value, bool):
            raise ReaDDSPError(f"bundle setting {name} must be true or false, not {value!r}", where)
        return value
    if kind == "int":
        return int(_number_in(value, name, (1, MAX_SIZE), where, whole=True))
    if kind.startswith("tuple[int"):
        if not isinstance(value, list | tuple) or not value:
            raise ReaDDSPError(f"bundle setting {name} must be a non-empty list of sizes, not {value!r}", where)
        return tuple(int(_number_in(item, name, (1, MAX_SIZE), where, whole=True)) for item in value)
    if kind == "float":
        return float(_number_in(value, name, (0.0, math.inf), where))
    raise ReaDDSPError(f"bundle setting {name} has a type this readdsp cannot check ({kind})", where)


def _number_in(
    value: object, name: str, bounds: tuple[float, float], where: str | Path | None, whole: bool = False
) -> float:
    """`value` if it is a finite number within `bounds` (whole with `whole`); else a one-line ReaDDSPError."""
    low, high = bounds
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (whole and not isinstance(value, int))
        or not (math.isfinite(value) and low <= value <= high)
    ):
        what = "a whole number" if whole else "a number" if math.isfinite(high) else "a finite number"
        where_in = f"from {low} to {high}" if math.isfinite(high) else f">= {low}"
        raise ReaDDSPError(f"bundle setting {name} must be {what} {where_in}, not {value!r}", where)
    return value
