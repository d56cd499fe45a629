"""`readdsp reaper install/uninstall/reapack-index`, and the action scripts' header metadata."""

from __future__ import annotations

import sys
from pathlib import Path
from xml.etree import ElementTree as ET

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
