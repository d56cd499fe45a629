"""Install into REAPER's resource folder (configure reapy, copy and register the actions), and undo it.

Install records in `<resource>/ReaDDSP/install-manifest.json` every ini value it sets (with the line that was
there before), every line it adds and every file it creates; it edits ini files line by line, so blank lines
and line endings stay. Uninstall restores those values, removes those lines and files, and nothing else:
install, install again, uninstall gives back a byte-identical folder.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings
from importlib import resources
from pathlib import Path

from readdsp.core.atomic import write_json
from readdsp.core.errors import ReaDDSPError
from readdsp.reaper_ext import ini_edit
from readdsp.reaper_ext.rpp_text import newline_of

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


def load_manifest(resource: Path) -> dict:
    path = resource / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for key, empty in (("files", []), ("ini_lines", {}), ("ini_values", []), ("newline_added", [])):
        manifest.setdefault(key, empty)
    return manifest


def _configure_reapy(resource: Path) -> str | None:
    """Let reapy enable Python, its web interface and its server action; returns a warning if it could not."""
    try:
        with warnings.catch_warnings():  # importing reapy outside REAPER warns that REAPER is not running: known here
            warnings.simplefilter("ignore")
            import reapy.config

        reapy.config.configure_reaper(str(resource), detect_portable_install=False)
    except Exception as err:  # reapy cannot find a Python shared library in some environments (e.g. venvs)
        return (
            f"could not configure reapy automatically ({type(err).__name__}: {err}); in REAPER, enable Python "
            "(Preferences > Plug-ins > ReaScript) for a Python that has python-reapy (see docs/reaper.md)"
        )
    return None


def _reapy_changes(resource: Path) -> tuple[dict[str, dict[tuple[str, str], str]], list[str], str | None]:
    """What reapy's configuration would change, found by letting it edit a scratch copy of the ini files.

    Returns ({ini file: {(section, key): new value}}, lines it adds to reaper-kb.ini, a warning or None). reapy
    rewrites whole files (dropping blank lines, turning CRLF into LF) and leaves `.bak` copies, so it never
    touches the user's own files: install applies its changes line by line instead.
    """
    with tempfile.TemporaryDirectory(prefix="readdsp-reapy-") as scratch:
        folder = Path(scratch)
        for name in INI_FILES:
            if (resource / name).exists():  # reapy's configparser takes a byte-order mark for text before a section
                (folder / name).write_bytes((resource / name).read_bytes().removeprefix(codecs.BOM_UTF8))
        warning = _configure_reapy(folder)
        changes: dict[str, dict[tuple[str, str], str]] = {}
        for name in ("reaper.ini", "reaper-extstate.ini"):
            before = ini_edit.values(ini_edit.read_lines(resource / name))
            after = ini_edit.values(ini_edit.read_lines(folder / name))
            changes[name] = {key: value for key, value in after.items() if before.get(key) != value}
        kb_before = {line.strip() for line in ini_edit.read_lines(resource / "reaper-kb.ini")}
        kb_added = [line.strip() for line in ini_edit.read_lines(folder / "reaper-kb.ini")]
        return changes, [line for line in kb_added if line and line not in kb_before], warning


def _set_values(resource: Path, name: str, changes: dict[tuple[str, str], str], manifest: dict) -> None:
    """Apply `changes` to one ini file, recording each key's first original line (so uninstall restores it)."""
    if not changes:
        return
    path = resource / name
    lines = ini_edit.read_lines(path)
    if ini_edit.ensure_final_newline(lines) and name not in manifest["newline_added"]:
        manifest["newline_added"].append(name)
    recorded = {(v["file"], v["section"], v["key"]) for v in manifest["ini_values"]}
    for (section, key), value in changes.items():
        original, section_added = ini_edit.set_value(lines, section, key, value)
        if (name, section, key) not in recorded:
            manifest["ini_values"].append(
                {
                    "file": name,
                    "section": section,
                    "key": key,
                    "original": original,
                    "installed": value,
                    "section_added": section_added,
                }
            )
        else:
            for entry in manifest["ini_values"]:
                if (entry["file"], entry["section"], entry["key"]) == (name, section, key):
                    entry["installed"] = value
    ini_edit.write_lines(path, lines)


def _append_lines(resource: Path, name: str, new_lines: list[str], manifest: dict) -> None:
    path = resource / name
    lines = ini_edit.read_lines(path)
    present = {line.strip() for line in lines}
    wanted = [line for line in new_lines if line not in present]
    if not wanted:
        return
    if ini_edit.ensure_final_newline(lines) and name not in manifest["newline_added"]:
        manifest["newline_added"].append(name)
    newline = newline_of(lines)
    lines += [line + newline for line in wanted]
    recorded = manifest["ini_lines"].setdefault(name, [])
    recorded.extend(line for line in wanted if line not in recorded)
    ini_edit.write_lines(path, lines)


def install(resource_path: str | Path | None = None, configure_reapy: bool = True) -> dict:
    """Install (idempotent). Returns {"scripts": [...], "actions": [...], "warnings": [...]}."""
    resource = Path(resource_path) if resource_path else default_resource_path()
    if not resource.is_dir():
        raise ReaDDSPError("REAPER resource folder not found (pass --resource-path)", resource)
    manifest = load_manifest(resource)
    for name in INI_FILES:
        if not (resource / name).exists() and str(resource / name) not in manifest["files"]:
            manifest["files"].append(str(resource / name))  # created by this install if it writes one
    warnings = []
    kb_lines: list[str] = []
    if configure_reapy:
        changes, kb_lines, warning = _reapy_changes(resource)
        if warning:
            warnings.append(warning)
        for name, values in changes.items():
            _set_values(resource, name, values, manifest)
    target_dir = resource / "Scripts" / SCRIPTS_SUBDIR
    if not target_dir.parent.exists() and str(target_dir.parent) not in manifest["files"]:
        manifest["files"].append(str(target_dir.parent))  # removed again by uninstall if it is left empty
    target_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for script in action_scripts():
        target = target_dir / script.name
        shutil.copyfile(script, target)
        copied.append(str(target))
    actions = []
    for script in action_scripts():
        if script.name == HELPER:
            continue
        ident = command_id(script.name)
        actions.append(ident)
        rel = f"{SCRIPTS_SUBDIR}/{script.name}"
        kb_lines.append(f'SCR 4 0 {ident} "Custom: {script_description(script)}" "{rel}"')
    _append_lines(resource, "reaper-kb.ini", kb_lines, manifest)
    # an ini file listed as new stays listed only if this install did write it
    manifest["files"] = [f for f in manifest["files"] if Path(f).name not in INI_FILES or Path(f).exists()]
    for path in [*copied, str(target_dir)]:
        if path not in manifest["files"]:
            manifest["files"].append(path)
    write_json(resource / MANIFEST, manifest)
    return {"scripts": copied, "actions": actions, "warnings": warnings}


def uninstall(resource_path: str | Path | None = None) -> dict:
    """Undo install (per the manifest): restore every value it changed, remove its lines, files and backups.

    A value the user changed after install is left as the user set it.
    """
    resource = Path(resource_path) if resource_path else default_resource_path()
    manifest = load_manifest(resource)
    removed_lines = 0
    files = {entry["file"] for entry in manifest["ini_values"]} | set(manifest["ini_lines"])
    for name in sorted(files):
        path = resource / name
        if not path.exists():
            continue
        lines = ini_edit.read_lines(path)
        for entry in reversed([e for e in manifest["ini_values"] if e["file"] == name]):
            if ini_edit.restore_value(lines, entry["section"], entry["key"], entry["installed"], entry["original"]):
                removed_lines += 1
            if entry["section_added"]:
                ini_edit.remove_section_if_empty(lines, entry["section"])
        for line in manifest["ini_lines"].get(name, []):
            removed_lines += ini_edit.remove_line(lines, line)
        if name in manifest["newline_added"] and lines and lines[-1].endswith("\n"):
            lines[-1] = lines[-1].rstrip("\r\n")
        ini_edit.write_lines(path, lines)
    removed_files = 0
    for entry in sorted(manifest["files"], key=len, reverse=True):  # files before their folders
        path = Path(entry)
        if path.is_file():
            if path.name in INI_FILES and path.read_bytes().strip():
                continue  # an ini file install created but REAPER has since filled: keep it
            path.unlink()
            removed_files += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    (resource / MANIFEST).unlink(missing_ok=True)
    manifest_dir = resource / MANIFEST.parent
    if manifest_dir.is_dir() and not any(manifest_dir.iterdir()):
        manifest_dir.rmdir()
    return {"removed_lines": removed_lines, "removed_files": removed_files}
