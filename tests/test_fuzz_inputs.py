"""Fuzzing every input a user or another program hands ReaDDSP: MIDI files, .RPP text, expression JSON (files and
take data) and OSC datagrams. Each ends in a result or a ReaDDSPError (one line, exit 2): never a traceback,
never a NaN in an output, never an output file after an error. Example counts stay small to keep the suite fast.
"""

from __future__ import annotations

import json
import math
import socket
import struct
import sys
import tempfile
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reaper_sim.fixtures import load_test_renderer, write_project  # noqa: E402

from readdsp.core.errors import ReaDDSPError  # noqa: E402
from readdsp.core.expression_io import apply_expression, load_expression, parse_expression_text  # noqa: E402
from readdsp.core.midi_io import read_midi  # noqa: E402
from readdsp.core.performance import CONTROL_NAMES, Note, Part, Performance  # noqa: E402
from readdsp.reaper_ext.actions import readdsp_action  # noqa: E402
from readdsp.reaper_ext.bridge import ReaperBridge  # noqa: E402
from readdsp.reaper_ext.engine import Engine  # noqa: E402
from readdsp.reaper_ext.offline_project import plan_project, render_project  # noqa: E402
from readdsp.scripts.cli import main  # noqa: E402

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SLOW = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_finite_performance(perf: Performance) -> None:
    for part in perf.parts:
        for note in part.notes:
            assert math.isfinite(note.onset) and math.isfinite(note.offset) and note.offset > note.onset
            assert note.expression is None or np.isfinite(note.expression).all()
        for lane in [*part.cc.values(), part.pitch_bend]:
            assert all(math.isfinite(t) and math.isfinite(v) for t, v in lane)


# --- MIDI files ---------------------------------------------------------------------------------------------------
channel = st.integers(0, 15)
data7 = st.integers(0, 127)
midi_message = st.one_of(
    st.builds(lambda c, n, v: mido.Message("note_on", channel=c, note=n, velocity=v), channel, data7, data7),
    st.builds(lambda c, n: mido.Message("note_off", channel=c, note=n), channel, data7),
    st.builds(lambda c, k, v: mido.Message("control_change", channel=c, control=k, value=v), channel, data7, data7),
    st.builds(lambda c, p: mido.Message("pitchwheel", channel=c, pitch=p), channel, st.integers(-8192, 8191)),
    st.builds(lambda c, p: mido.Message("program_change", channel=c, program=p), channel, data7),
    st.builds(lambda t: mido.MetaMessage("set_tempo", tempo=t), st.integers(0, 0xFFFFFF)),
)
midi_track = st.lists(st.tuples(st.integers(0, 5000), midi_message), max_size=30)


def midi_bytes(tracks: list, ticks_per_beat: int) -> bytes:
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    for events in tracks:
        track = mido.MidiTrack()
        for delta, message in events:
            track.append(message.copy(time=delta))
        midi.tracks.append(track)
    with tempfile.TemporaryFile() as handle:
        midi.save(file=handle)
        handle.seek(0)
        return handle.read()


@FAST
@given(tracks=st.lists(midi_track, min_size=1, max_size=3), tpb=st.integers(1, 0x7FFF), cut=st.integers(0, 64))
def test_fuzz_midi_files_read_or_fail_in_one_line(tmp_path: Path, tracks, tpb, cut) -> None:
    data = midi_bytes(tracks, tpb)
    path = tmp_path / "fuzz.mid"
    path.write_bytes(data[: len(data) - cut] if cut % 4 == 1 else data)  # some files are cut short
    try:
        perf = read_midi(path)
    except ReaDDSPError as err:
        assert "\n" not in str(err) and str(path) in str(err)
        return
    assert_finite_performance(perf)


@SLOW
@given(tracks=st.lists(midi_track, min_size=1, max_size=2))
def test_fuzz_render_cli_writes_finite_audio_or_nothing(tmp_path: Path, random_bundle: Path, capsys, tracks) -> None:
    path = tmp_path / "fuzz.mid"
    path.write_bytes(midi_bytes([[(d % 200, m) for d, m in events] for events in tracks], 96))
    out = tmp_path / "out" / "mix.wav"
    code = main(["render", str(path), "-o", str(out), "--bundle", str(random_bundle), "--sample-rate", "16000"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code == 2:
        assert not out.exists()
    else:
        assert code == 0 and np.isfinite(sf.read(str(out))[0]).all()
    out.unlink(missing_ok=True)


# --- .RPP text ----------------------------------------------------------------------------------------------------
odd_number = st.sampled_from(["0", "1", "-1", "nan", "inf", "-inf", "1e400", "x", "", "0.5", "1000000", "1e-9"])
hex_token = st.sampled_from(["zz", "90", "80", "b0", "e0", "ff", "100", "-1", "7f", "c0"]) | st.text(max_size=3)


@st.composite
def rpp_projects(draw) -> str:
    events = []
    for _ in range(draw(st.integers(0, 8))):
        flag = draw(st.sampled_from(["E", "e", "Em", "ENV", "X", "E"]))
        fields = [draw(st.sampled_from(["0", "240", "960", "nan", "1e400", "-5"]))]
        fields += [draw(hex_token) for _ in range(draw(st.integers(0, 3)))]
        events.append(" ".join([flag, *fields]))
    source = draw(st.sampled_from(["MIDI", "MIDIPOOL", "WAVE"]))
    numbers = {k: draw(odd_number) for k in ("POSITION", "LENGTH", "SOFFS", "PLAYRATE", "MUTE")}
    body = "\n".join(f"        {e}" for e in events)
    item = f"""    <ITEM
      POSITION {numbers["POSITION"]}
      LENGTH {numbers["LENGTH"]}
      MUTE {numbers["MUTE"]}
      NAME fuzz
      SOFFS {numbers["SOFFS"]}
      PLAYRATE {numbers["PLAYRATE"]} 1 0 -1 0 0.0025
      <SOURCE {source}
        HASDATA 1 {draw(st.sampled_from(["960", "0", "x", "-3", "96"]))} QN
{body}
      >
    >
"""
    points = [(draw(odd_number), draw(odd_number), draw(st.sampled_from(["0", "1", "x"]))) for _ in range(2)]
    with tempfile.TemporaryDirectory() as folder:
        path = write_project(Path(folder) / "p.RPP", {"T": [item]}, tempo_points=points)
        text = path.read_text()
    return text.replace("TEMPO 120.0", f"TEMPO {draw(odd_number)}").replace(
        "SAMPLERATE 48000", f"SAMPLERATE {draw(odd_number)}"
    )


@FAST
@given(text=rpp_projects())
def test_fuzz_rpp_text_plans_or_fails_in_one_line(tmp_path: Path, text: str) -> None:
    source = tmp_path / "fuzz.RPP"
    source.write_text(text)
    out = tmp_path / "out" / "fuzz-out.RPP"
    try:
        plan = plan_project(source, out)
    except ReaDDSPError as err:
        assert "\n" not in str(err)
        assert not out.parent.exists()
        return
    assert 8000 <= plan.sample_rate
    for item in plan.items.found:
        assert 0 <= item.job.length <= 3 * 3600
        assert_finite_performance(item.job.performance)


@SLOW
@given(text=rpp_projects())
def test_fuzz_render_project_writes_finite_audio_or_nothing(tmp_path: Path, text: str) -> None:
    source = tmp_path / "fuzz.RPP"
    source.write_text(text)
    out = tmp_path / "out" / "fuzz-out.RPP"
    try:
        result = render_project(source, out, RENDERER.get())
    except ReaDDSPError:
        assert not out.exists() and not list(tmp_path.glob("out/*.wav"))
        return
    for wav in result["wavs"]:
        assert np.isfinite(sf.read(wav)[0]).all()


class _Renderer:
    """One test renderer for the whole module, loaded when first needed."""

    def __init__(self) -> None:
        self.renderer = None

    def get(self):
        if self.renderer is None:
            self.renderer = load_test_renderer()
        return self.renderer


RENDERER = _Renderer()


# --- expression JSON ----------------------------------------------------------------------------------------------
json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 200),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=5),
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
row_key = st.sampled_from(["part", "note", "pitch", "onset", "volume", "vibrato", "attack", "wobble"])
expression_row = st.dictionaries(row_key, json_value | st.integers(-1, 3), max_size=6)


def small_performance() -> Performance:
    return Performance([Part("a", notes=[Note(60, 0.0, 0.5), Note(62, 0.5, 1.0)]), Part("b", notes=[Note(48, 0, 1)])])


@FAST
@given(rows=st.lists(expression_row, max_size=4) | json_value)
def test_fuzz_expression_files(tmp_path: Path, rows) -> None:
    path = tmp_path / "expr.json"
    data = {"notes": rows} if isinstance(rows, list) else rows
    path.write_text(json.dumps(data, allow_nan=True))
    perf = small_performance()
    try:
        apply_expression(perf, load_expression(path), path)
    except ReaDDSPError as err:
        assert "\n" not in str(err)
        return
    assert_finite_performance(perf)
    for part in perf.parts:
        for note in part.notes:
            assert note.expression is None or ((note.expression >= 0) & (note.expression <= 1)).all()


@FAST
@given(
    data=st.lists(st.tuples(json_value, json_value, json_value), max_size=3).map(
        lambda rows: {"notes": [list(r) for r in rows]}
    )
    | json_value
)
def test_fuzz_take_expression_data(data) -> None:
    raw = json.dumps(data, allow_nan=True)
    try:
        rows, _ = parse_expression_text(raw, "take data readdsp_expression")
    except ReaDDSPError as err:
        assert "\n" not in str(err)
        return
    assert all(0.0 <= row.get(name, 0.0) <= 1.0 for row in rows for name in CONTROL_NAMES)


# --- OSC datagrams ------------------------------------------------------------------------------------------------
osc_address = st.sampled_from(
    ["/readdsp/ping", "/readdsp/status", "/readdsp/render", "/readdsp/restore", "/readdsp/effect_dataset"]
    + ["/readdsp/*", "/readdsp/{ping,quit}", "/readdsp/qui?", "/", "/readdsp/quit/", "//readdsp/ping"]
) | st.text(min_size=1, max_size=12).map(lambda s: "/" + s.replace("\0", ""))
osc_arg = st.one_of(
    st.integers(-(2**31), 2**31 - 1),
    st.floats(width=32, allow_nan=True, allow_infinity=True),
    st.text(max_size=20).map(lambda s: s.replace("\0", "")),
)


def osc_datagram(address: str, args: list) -> bytes:
    return readdsp_action.osc_message(address, *args)


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    temp = tmp_path_factory.mktemp("engine")
    engine = Engine(RENDERER.get(), ReaperBridge(web_port=dead_port), port=0, temp_dir=temp).start()
    yield engine
    engine.shutdown()


@FAST
@given(
    address=osc_address,
    args=st.lists(osc_arg, max_size=4),
    garbage=st.binary(max_size=64),
    use_garbage=st.booleans(),
)
def test_fuzz_osc_messages_always_get_an_answer(fuzz_engine: Engine, address, args, garbage, use_garbage) -> None:
    if "quit" in address and address.rstrip("/") == "/readdsp/quit":
        address = "/readdsp/status"  # the one message that may stop the engine
    try:
        data = garbage if use_garbage else osc_datagram(address, args)
    except (UnicodeEncodeError, struct.error):
        return
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.bind(("127.0.0.1", 0))
        client.settimeout(5)
        client.sendto(data, ("127.0.0.1", fuzz_engine.port))
        reply = client.recv(65536)
    assert reply.startswith(b"/readdsp/")
    assert not fuzz_engine.stopped.is_set()
