"""Install into REAPER's resource folder (configure reapy, copy and register the actions), and undo it.

Install records every line it adds to REAPER's ini files and every file it creates in
`<resource>/ReaDDSP/install-manifest.json`; uninstall removes exactly those, and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from importlib import resources
from pathlib import Path

from readdsp.core.atomic import write_json
from readdsp.core.errors import ReaDDSPError

SCRIPTS_SUBDIR = "ReaDDSP"
MANIFEST = Path("ReaDDSP") / "install-manifest.json"
INI_FILES = ("reaper.ini", "reaper-kb.ini", "reaper-extstate.ini")
HELPER = "readdsp_action.py"


def default_resource_path() -> Path:
    """REAPER's default resource folder for this platform."""
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "REAPER"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "REAPER"
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "REAPER"


def action_scripts() -> list[Path]:
    """The packaged action scripts (every `ReaDDSP_*.py`), plus the helper they import."""
    folder = Path(str(resources.files("readdsp.reaper_ext.actions")))
    return sorted(folder.glob("ReaDDSP_*.py")) + [folder / HELPER]


def script_description(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# @description"):
            return line.split("@description", 1)[1].strip()
    return path.stem


def command_id(script_name: str) -> str:
    """A stable action id (REAPER's `RS` + 40 hex), so reinstalling never duplicates an action."""
    return "RS" + hashlib.sha1(f"readdsp/{script_name}".encode()).hexdigest()


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="surrogateescape").splitlines() if path.exists() else []


def _write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".readdsp-tmp")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8", errors="surrogateescape")
    tmp.replace(path)


def load_manifest(resource: Path) -> dict:
    path = resource / MANIFEST
    if not path.exists():
        return {"files": [], "ini_lines": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def _configure_reapy(resource: Path) -> str | None:
    """Let reapy enable Python, its web interface and its server action; returns a warning if it could not."""
    try:
        import reapy.config

        reapy.config.configure_reaper(str(resource), detect_portable_install=False)
    except Exception as err:  # reapy cannot find a Python shared library in some environments (e.g. venvs)
        return (
            f"could not configure reapy automatically ({type(err).__name__}: {err}); in REAPER, enable Python "
            "(Preferences > Plug-ins > ReaScript) for a Python that has python-reapy (see docs/reaper.md)"
        )
    return None


def install(resource_path: str | Path | None = None, configure_reapy: bool = True) -> dict:
    """Install (idempotent). Returns {"scripts": [...], "actions": [...], "warnings": [...]}."""
    resource = Path(resource_path) if resource_path else default_resource_path()
    if not resource.is_dir():
        raise ReaDDSPError("REAPER resource folder not found (pass --resource-path)", resource)
    manifest = load_manifest(resource)
    before = {name: _read_lines(resource / name) for name in INI_FILES}
    existed = {name: (resource / name).exists() for name in INI_FILES}
    warnings = []
    if configure_reapy:
        warning = _configure_reapy(resource)
        if warning:
            warnings.append(warning)
    target_dir = resource / "Scripts" / SCRIPTS_SUBDIR
    target_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for script in action_scripts():
        target = target_dir / script.name
        shutil.copyfile(script, target)
        copied.append(str(target))
    kb = resource / "reaper-kb.ini"
    kb_lines = _read_lines(kb)
    actions = []
    for script in action_scripts():
        if script.name == HELPER:
            continue
        ident = command_id(script.name)
        actions.append(ident)
        if not any(f" {ident} " in line for line in kb_lines):
            rel = f"{SCRIPTS_SUBDIR}/{script.name}"
            kb_lines.append(f'SCR 4 0 {ident} "Custom: {script_description(script)}" "{rel}"')
    _write_lines(kb, kb_lines)
    for name in INI_FILES:
        after = _read_lines(resource / name)
        added = [line for line in after if line not in before[name]]
        recorded = manifest["ini_lines"].setdefault(name, [])
        recorded.extend(line for line in added if line not in recorded)
        if not existed[name] and (resource / name).exists() and str(resource / name) not in manifest["files"]:
            manifest["files"].append(str(resource / name))
    for path in [*copied, str(target_dir)]:
        if path not in manifest["files"]:
            manifest["files"].append(path)
    write_json(resource / MANIFEST, manifest)
    return {"scripts": copied, "actions": actions, "warnings": warnings}


def uninstall(resource_path: str | Path | None = None) -> dict:
    """Remove exactly the lines and files install added (per the manifest)."""
    resource = Path(resource_path) if resource_path else default_resource_path()
    manifest = load_manifest(resource)
    removed_lines = 0
    for name, lines in manifest["ini_lines"].items():
        path = resource / name
        if path.exists() and lines:
            current = _read_lines(path)
            kept = [line for line in current if line not in set(lines)]
            removed_lines += len(current) - len(kept)
            _write_lines(path, kept)
    removed_files = 0
    for entry in sorted(manifest["files"], key=len, reverse=True):  # files before their folders
        path = Path(entry)
        if path.is_file():
            if path.name in INI_FILES and path.read_text(encoding="utf-8", errors="replace").strip():
                continue  # an ini file we created but REAPER has since filled: keep it
            path.unlink()
            removed_files += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    (resource / MANIFEST).unlink(missing_ok=True)
    manifest_dir = resource / MANIFEST.parent
    if manifest_dir.is_dir() and not any(manifest_dir.iterdir()):
        manifest_dir.rmdir()
    return {"removed_lines": removed_lines, "removed_files": removed_files}
