"""`readdsp reaper install/uninstall/reapack-index`, and the action scripts' header metadata."""

from __future__ import annotations

import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from readdsp.reaper_ext.bridge import fx_chain_from_track_chunk  # noqa: E402
from readdsp.reaper_ext.install import HELPER, action_scripts, command_id  # noqa: E402
from readdsp.scripts.cli import main  # noqa: E402

SHARED_RPP = Path(__file__).resolve().parents[1] / "../shared/data/rpp/vst.RPP"


def test_install_is_idempotent_and_uninstall_removes_exactly_what_it_added(tmp_path: Path) -> None:
    resource = tmp_path / "REAPER"
    resource.mkdir()
    kb = resource / "reaper-kb.ini"
    kb.write_text('KEY 1 65 40044 0\nSCR 4 0 RSexisting "Custom: mine" "mine.py"\n')
    ini = resource / "reaper.ini"
    ini.write_text("[reaper]\nmy_setting=1\n")
    before = {p.name: p.read_text() for p in (kb, ini)}
    assert main(["reaper", "install", "--resource-path", str(resource)]) == 0
    once = kb.read_text()
    assert main(["reaper", "install", "--resource-path", str(resource)]) == 0
    assert kb.read_text() == once  # idempotent
    scripts = [s for s in action_scripts() if s.name != HELPER]
    for script in scripts:
        assert f" {command_id(script.name)} " in once
        assert (resource / "Scripts" / "ReaDDSP" / script.name).read_text() == script.read_text()
    assert main(["reaper", "uninstall", "--resource-path", str(resource)]) == 0
    assert {p.name: p.read_text() for p in (kb, ini)} == before
    assert not (resource / "Scripts" / "ReaDDSP").exists() and not (resource / "ReaDDSP").exists()


def test_reapack_index_lists_every_action(tmp_path: Path) -> None:
    out = tmp_path / "index.xml"
    assert main(["reaper", "reapack-index", "-o", str(out), "--base-url", "https://h/x"]) == 0
    root = ET.parse(out).getroot()
    packages = root.findall("./category/reapack")
    names = {p.get("name") for p in packages}
    assert names == {s.name for s in action_scripts() if s.name != HELPER}
    descriptions = {p.get("desc") for p in packages}
    assert "ReaDDSP: Restore MIDI take on selected items" in descriptions
    for package in packages:
        sources = package.findall("./version/source")
        assert [s.text for s in sources] == [f"https://h/x/{package.get('name')}", f"https://h/x/{HELPER}"]


def test_fx_chain_extraction_keeps_plugin_state() -> None:
    chunk = """<TRACK
  NAME Synth
  <FXCHAIN
    WNDRECT 0 0 10 10
    SHOW 0
    LASTSEL 0
    DOCKED 0
    BYPASS 0 0 0
    <JS loser/3BandEQ ""
      0.000000 200.000000
    >
    FLOATPOS 0 0 0 0
    FXID {563A0BAE-9E81-4667-8E14-54B1D74860DE}
    WAK 0
  >
>"""
    text = fx_chain_from_track_chunk(chunk)
    assert text.splitlines()[0] == "BYPASS 0 0 0"
    assert "<JS loser/3BandEQ" in text and "0.000000 200.000000" in text and "WNDRECT" not in text


USER_INI = {
    "reaper.ini": (
        "[REAPER]\n"
        "reascript=0\n"
        "pythonlibpath64=/opt/old/lib\n"
        "csurf_cnt=1\n"
        'csurf_0=OSC "my tablet" 3 8000 "10.0.0.5" 9000 1024 10 ""\n'
        "\n"
        "lastproject=/home/me/song.RPP\n"
        "\n"
        "[audioconfig]\n"
        "srate=48000\n"
    ),
    "reaper-kb.ini": 'KEY 1 65 40044 0\nSCR 4 0 RSexisting "Custom: mine" "mine.py"\n',
    "reaper-extstate.ini": "[mine]\nkey=value\n\n",
}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_install_install_uninstall_gives_back_a_byte_identical_folder(tmp_path: Path, newline: str) -> None:
    resource = tmp_path / "REAPER"
    resource.mkdir()
    for name, text in USER_INI.items():
        (resource / name).write_bytes(text.replace("\n", newline).encode())
    before = _snapshot(resource)
    assert main(["reaper", "install", "--resource-path", str(resource)]) == 0
    installed = (resource / "reaper.ini").read_bytes()
    # reapy's settings went in, line by line: the user's OSC surface keeps its count, blank lines and endings stay
    assert b"reascript=1" + newline.encode() in installed and b"csurf_cnt=2" in installed
    assert b"csurf_1=HTTP 0 2307" in installed and b'csurf_0=OSC "my tablet"' in installed
    nl = newline.encode()
    assert installed.count(nl + nl) == before["reaper.ini"].count(nl + nl) == 2  # blank lines kept
    assert installed.count(b"\n") == installed.count(nl)  # every line keeps the file's ending
    assert not list(resource.glob("*.bak"))
    assert main(["reaper", "install", "--resource-path", str(resource)]) == 0
    assert (resource / "reaper.ini").read_bytes() == installed  # idempotent
    assert main(["reaper", "uninstall", "--resource-path", str(resource)]) == 0
    assert _snapshot(resource) == before
    assert sorted(p.name for p in resource.rglob("*")) == sorted(USER_INI)  # no folder, backup or manifest left


def test_uninstall_keeps_a_value_the_user_changed_after_install(tmp_path: Path) -> None:
    resource = tmp_path / "REAPER"
    resource.mkdir()
    (resource / "reaper.ini").write_text("[REAPER]\nreascript=0\n")
    assert main(["reaper", "install", "--resource-path", str(resource)]) == 0
    ini = resource / "reaper.ini"
    ini.write_text(ini.read_text().replace("reascript=1", "reascript=7"))
    assert main(["reaper", "uninstall", "--resource-path", str(resource)]) == 0
    text = ini.read_text()
    assert "reascript=7" in text and "csurf_1" not in text and "csurf_cnt" not in text


def test_a_byte_order_mark_and_an_upper_case_key_are_read_as_reaper_reads_them(tmp_path: Path) -> None:
    resource = tmp_path / "REAPER"
    resource.mkdir()
    ini = resource / "reaper.ini"
    original = (
        b"\xef\xbb\xbf[REAPER]\r\nreascript=0\r\nCSURF_CNT=1\r\n"
        b'csurf_0=OSC "my tablet" 3 8000 "10.0.0.5" 9000 1024 10 ""\r\n\r\n[audioconfig]\r\nsrate=48000'
    )
    ini.write_bytes(original)
    assert main(["reaper", "install", "--resource-path", str(resource)]) == 0
    installed = ini.read_bytes()
    assert installed.startswith(b"\xef\xbb\xbf[REAPER]\r\nreascript=1\r\nCSURF_CNT=2\r\n")  # the user's spelling
    assert b"csurf_cnt" not in installed and b"csurf_1=HTTP 0 2307" in installed  # one count, not two
    assert main(["reaper", "install", "--resource-path", str(resource)]) == 0
    assert ini.read_bytes() == installed
    assert main(["reaper", "uninstall", "--resource-path", str(resource)]) == 0
    assert ini.read_bytes() == original and sorted(p.name for p in resource.rglob("*")) == ["reaper.ini"]
