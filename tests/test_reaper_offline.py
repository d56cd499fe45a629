"""`readdsp render-project`: offline .RPP rendering into new takes of a copy; the input is never touched."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import rpp
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reaper_sim.fixtures import audio_item, load_test_renderer, midi_events, midi_item, write_project  # noqa: E402

from readdsp.core.errors import ReaDDSPError  # noqa: E402
from readdsp.reaper_ext.item_chunk import ItemChunk  # noqa: E402
from readdsp.reaper_ext.offline_project import midi_items, render_project  # noqa: E402
from readdsp.scripts.cli import main  # noqa: E402

SHARED_RPP = Path(__file__).resolve().parents[1] / "../shared/data/rpp/vst.RPP"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    tempo_change = midi_events([(0, 960, 0, 69, 100), (1920, 2880, 0, 72, 100)], end_tick=3840)
    return write_project(
        tmp_path / "in" / "song.RPP" if (tmp_path / "in").mkdir() is None else None,
        {
            "Lead": [midi_item("lead", 0.5, 3.0, tempo_change)],
            "Other": [midi_item("other", 0.0, 1.0, midi_events([(0, 480, 0, 60, 90)]))],
            "Audio": [audio_item("clip", 0.0, 1.0, "clip.wav")],
        },
        bpm=120.0,
        rate=22050,
        tempo_points=[(0.0, 120.0), (1.5, 60.0)],
    )


def test_tempo_map_converts_ticks_to_seconds(project: Path) -> None:
    from readdsp.reaper_ext.rpp_project import load_project

    found = midi_items(load_project(project)[0], project.parent, ["Lead"], None)
    notes = found.found[0].job.performance.parts[0].notes
    # the take starts at 0.5 s = beat 1; tick 1920 is beat 3 = 1.5 s (120 bpm) = 1.0 s from the item start;
    # the tempo drops to 60 bpm at 1.5 s, so that note's one beat lasts 1 s
    assert notes[0].onset == pytest.approx(0.0) and notes[0].offset == pytest.approx(0.5)
    assert notes[1].onset == pytest.approx(1.0) and notes[1].offset == pytest.approx(2.0)


def test_render_project_adds_takes_to_a_copy(project: Path, tmp_path: Path) -> None:
    before = project.read_bytes()
    out = tmp_path / "out" / "rendered.RPP"
    result = render_project(project, out, load_test_renderer(), tracks=["Lead"])
    assert project.read_bytes() == before
    wavs = [Path(w) for w in result["wavs"]]
    assert len(wavs) == 1 and wavs[0].parent == out.parent
    info = sf.info(str(wavs[0]))
    assert info.samplerate == 22050 and info.frames == round(3.0 * 22050)
    out_root = rpp.loads(out.read_text())
    lead = ItemChunk.parse(out_root.find(".//ITEM"))
    assert len(lead.takes) == 2 and lead.active_index == 1
    assert lead.takes[1].ext()["readdsp_source_take"] == lead.takes[0].guid
    assert lead.takes[1].source.children[0][1] == wavs[0].name
    assert not list(out.parent.glob(".*readdsp-tmp*"))


def test_cli_rejects_bad_input(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.RPP"
    bad.write_text("this is not a project")
    assert main(["render-project", str(bad), "-o", str(tmp_path / "o.RPP")]) == 2
    assert "bad.RPP" in capsys.readouterr().err
    with pytest.raises(ReaDDSPError):
        render_project(bad, bad, None)


@pytest.mark.skipif(not SHARED_RPP.exists(), reason="shared data (../shared/data/rpp) not available")
def test_real_reaper_project_midi_item(tmp_path: Path) -> None:
    from readdsp.reaper_ext.rpp_project import load_project

    found = midi_items(load_project(SHARED_RPP)[0], SHARED_RPP.parent, None, None)
    notes = found.found[0].job.performance.parts[0].notes
    assert [n.pitch for n in notes] == [60, 62, 64, 65]
    assert [n.onset for n in notes] == pytest.approx([0.0, 0.5, 1.0, 1.5])
    assert any("not a MIDI take" in m for m in found.messages)  # the CLICK source item
