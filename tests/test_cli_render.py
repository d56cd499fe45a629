"""`readdsp render` and `readdsp instruments` as a user runs them: outputs, summaries, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf

from readdsp.core.midi_io import write_midi
from readdsp.core.performance import Note, Part, Performance


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "readdsp.scripts.cli", *args], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def song(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("midi") / "song.mid"
    notes = [Note(64 + (i % 3), 0.4 * i, 0.4 * i + 0.35, 70 + 5 * i) for i in range(5)]
    write_midi(Performance([Part("Lead", 40, notes=notes), Part("Low", 42, notes=[Note(45, 0.0, 1.8)])]), path)
    return path


def test_render_writes_mix_stems_plot_and_expression(song: Path, random_bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "song.wav"
    expr = tmp_path / "expr.json"
    done = run_cli(
        "render",
        str(song),
        "-o",
        str(out),
        "--bundle",
        str(random_bundle),
        "--sample-rate",
        "44100",
        "--stems",
        str(tmp_path / "stems"),
        "--plot",
        str(tmp_path / "song.png"),
        "--save-expression",
        str(expr),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and "44100 Hz" in done.stdout and "Lead=violin" in done.stdout
    audio, sr = sf.read(out)
    assert sr == 44100 and abs(len(audio) / sr - (1.95 + 0.5)) < 0.01  # last offset + the 0.5-s release tail
    stems = sorted(p.name for p in (tmp_path / "stems").iterdir())
    assert stems == ["Lead_violin.wav", "Low_cello.wav"]
    assert (tmp_path / "song.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = json.loads(expr.read_text())
    assert table["format"] == "readdsp-expression/1" and len(table["notes"]) == 6
    assert all(0.0 <= table["notes"][0][k] <= 1.0 for k in table["controls"])

    def render_with_expression(out: Path) -> subprocess.CompletedProcess:
        args = ["--bundle", str(random_bundle), "--expression", str(expr), "--sample-rate", "44100"]
        return run_cli("render", str(song), "-o", str(out), *args)

    # feed an edit back: only the edited part changes
    table["notes"][1]["vibrato"] = 1.0
    table["notes"][1]["volume"] = 1.0
    expr.write_text(json.dumps(table))
    edited = tmp_path / "edited.wav"
    again = tmp_path / "again.wav"
    assert render_with_expression(again).returncode == 0
    table["notes"][1]["vibrato"] = 0.0
    expr.write_text(json.dumps(table))
    assert render_with_expression(edited).returncode == 0
    assert not np.array_equal(sf.read(again)[0], sf.read(edited)[0])


def test_instruments_lists_bundles() -> None:
    done = run_cli("instruments")
    assert done.returncode == 0
    assert done.stdout.strip()


def _expect_error(args: list[str], fragment: str, output: Path) -> None:
    done = run_cli(*args)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], done.stderr
    assert not output.exists()
    assert not list(output.parent.glob(f".{output.name}*"))


def test_bad_inputs_get_one_line_and_no_output(tmp_path: Path, random_bundle: Path, song: Path) -> None:
    out = tmp_path / "x.wav"
    bundle = ["--bundle", str(random_bundle)]
    _expect_error(["render", str(tmp_path / "missing.mid"), "-o", str(out), *bundle], "missing.mid", out)
    empty = tmp_path / "empty.mid"
    empty.write_bytes(b"")
    _expect_error(["render", str(empty), "-o", str(out), *bundle], "empty.mid", out)
    fake = tmp_path / "fake.mid"
    sf.write(fake, np.zeros(1000), 16000, format="WAV")
    _expect_error(["render", str(fake), "-o", str(out), *bundle], "fake.mid", out)
    corrupt = tmp_path / "corrupt.mid"
    corrupt.write_bytes(song.read_bytes()[:40])
    _expect_error(["render", str(corrupt), "-o", str(out), *bundle], "corrupt.mid", out)
    silent = tmp_path / "silent.mid"
    mido.MidiFile(tracks=[mido.MidiTrack([mido.MetaMessage("end_of_track")])]).save(silent)
    _expect_error(["render", str(silent), "-o", str(out), *bundle], "no notes", out)
    _expect_error(["render", str(song), "-o", str(out), *bundle, "--instrument", "kazoo"], "unknown instrument", out)
    _expect_error(["render", str(song), "-o", str(out), "--bundle", str(tmp_path / "nope.safetensors")], "nope", out)
    bad_expr = tmp_path / "bad.json"
    bad_expr.write_text("{not json")
    _expect_error(["render", str(song), "-o", str(out), *bundle, "--expression", str(bad_expr)], "bad.json", out)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for extra in (["--stems", a_file], ["--plot", a_file / "p.png"], ["--save-expression", a_file / "e.json"]):
        _expect_error(["render", str(song), "-o", str(out), *bundle, *map(str, extra)], "it is a file", out)
    _expect_error(["render", str(song), "-o", str(out), *bundle, "--seed", "-5"], "--seed must be", out)
