"""The package's layering: core is the inference floor, reaper_ext and datasets stay apart, and no import cycles."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "training", "datasets", "reaper_ext", "ui", "scripts")
#: Who may not import whom (every import counts, including ones inside functions).
FORBIDDEN = {
    "core": ("training", "datasets", "reaper_ext", "ui", "scripts"),
    "datasets": ("reaper_ext", "ui", "scripts"),
    "reaper_ext": ("datasets", "training", "ui", "scripts"),
    "training": ("reaper_ext", "ui", "scripts"),
    "ui": ("training", "datasets", "scripts"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(("readdsp", *(parts[:-1] if parts[-1] == "__init__" else parts)))


def imports_of(path: Path) -> set[str]:
    """The readdsp modules a file imports anywhere in it (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    nodes = list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("readdsp")}


def package_files() -> list[Path]:
    return [p for name in PACKAGES for p in (ROOT / name).rglob("*.py") if "actions" not in p.parts]


def test_core_is_the_floor_and_reaper_ext_and_datasets_stay_apart() -> None:
    broken = []
    for path in package_files():
        layer = path.relative_to(ROOT).parts[0]
        for name in sorted(imports_of(path)):
            target = name.split(".")[1] if "." in name else ""
            if target in FORBIDDEN.get(layer, ()):
                broken.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not broken, "\n".join(broken)


def test_no_import_cycles_between_modules() -> None:
    """Imports inside functions count too: a lazy import that breaks a circle still hides one."""
    modules = {module_name(p): p for p in package_files()}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for imported in imports_of(path):
            while imported not in modules and "." in imported:
                imported = imported.rsplit(".", 1)[0]  # `from pkg.mod import name` -> pkg.mod
            if imported in modules and imported != name and not name.startswith(imported + "."):
                graph[name].add(imported)
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(modules):
        if start not in state:
            visit(start, [start])
    assert not cycles, "\n".join(cycles)
