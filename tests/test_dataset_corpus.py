"""render-corpus end to end: a tiny real FluidSynth corpus, checked for alignment, content and manifest."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import mido
import numpy as np
import pytest

from readdsp.core.errors import ReaDDSPError
from readdsp.core.midi_io import read_midi
from readdsp.core.note_frames import notes_to_frames
from readdsp.core.programs import INSTRUMENTS
from readdsp.datasets.cache import open_dataset, split_for_piece
from readdsp.datasets.corpus import SOURCE_WEIGHTS, CorpusSettings, plan_instrument, render_corpus, sources_for
from readdsp.datasets.expressive_midi import TICKS_PER_SECOND, build_midi, fit_range, perform_line
from readdsp.datasets.fluidsynth import render_midi, resolve_soundfont
from readdsp.datasets.note_sources import LONG_TONE_SECONDS, SourceLine, folk_pieces, jazz_pieces
from readdsp.scripts.cli import main

pytestmark = pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="needs the fluidsynth program")

SAMPLE_RATE = 24000


def midi_hz(pitch: np.ndarray) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(pitch, float) - 69.0) / 12.0)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "tiny"
    settings = CorpusSettings(
        instruments=("violin", "flute"), minutes_per_instrument=0.4, sources=("bach", "folk"), seed=3, jobs=2
    )
    render_corpus(out, settings)
    return out


def test_manifest_matches_files(corpus: Path) -> None:
    manifest = json.loads((corpus / "manifest.json").read_text())
    assert manifest["sample_rate"] == SAMPLE_RATE and manifest["frame_rate"] == 250
    assert manifest["instruments"] == ["violin", "flute"]
    assert {e["instrument"] for e in manifest["examples"]} == {"violin", "flute"}
    assert {e["source"] for e in manifest["examples"]} <= {"bach", "folk"}
    dataset = open_dataset(corpus)
    total = {"violin": 0.0, "flute": 0.0}
    for entry in manifest["examples"]:
        path = corpus / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        example = dataset.load_example(entry["id"])
        assert example.instrument == entry["instrument"]
        assert len(example.notes) == entry["n_notes"] > 0
        assert example.duration == pytest.approx(entry["duration"])
        assert len(example.audio) == example.n_frames * SAMPLE_RATE // 250
        assert 8.0 <= example.duration <= 62.0
        total[example.instrument] += example.duration
    assert all(seconds >= 0.4 * 60 for seconds in total.values())
    assert not list(corpus.parent.glob(".tiny.*")), "temporary build folder left behind"


def test_pieces_never_span_two_splits(corpus: Path) -> None:
    split_of: dict[str, set[str]] = {}
    for entry in open_dataset(corpus).entries:
        split_of.setdefault(entry["piece_id"], set()).add(entry["split"])
    assert split_of and all(len(splits) == 1 for splits in split_of.values())


def test_every_instrument_gets_every_split(corpus: Path) -> None:
    entries = open_dataset(corpus).entries
    for instrument in ("violin", "flute"):
        splits = {e["split"] for e in entries if e["instrument"] == instrument}
        assert splits == {"train", "validation", "test"}


def test_audio_follows_the_notes(corpus: Path) -> None:
    for example in open_dataset(corpus).iter_examples():
        frames = notes_to_frames(example.note_list(), example.n_frames)
        sounding = frames.note_index >= 0
        # Sounding frames are loud; frames long after any note (past the release) are much quieter.
        assert np.median(example.loudness_db[sounding]) > -45.0
        before_first = example.loudness_db[: max(int(example.notes[0, 1] * 250) - 2, 1)]
        assert before_first.max() < np.median(example.loudness_db[sounding]) - 25.0
        # f0 sits on the written pitch (vibrato and note transitions aside) in confidently voiced frames.
        voiced = sounding & (example.f0_confidence > 0.8)
        assert voiced.mean() > 0.5 * sounding.mean()
        cents = 1200 * np.log2(example.f0_hz[voiced] / midi_hz(frames.pitch[voiced]))
        assert np.mean(np.abs(cents) < 50) > 0.75, example.id
        assert np.median(np.abs(cents)) < 30


def test_energy_rises_at_the_note_onsets(corpus: Path) -> None:
    """The lag that best aligns the energy rise with the written onsets is within one 4 ms frame. Onsets after a
    rest of 0.1 s or more are scored: in a legato flute line (20-30 ms gaps) the previous note's release covers the
    next attack, whose small rises peak anywhere from 2 to 38 ms and can outvote the clear onsets."""
    lags = []
    for example in open_dataset(corpus).iter_examples():
        hop = SAMPLE_RATE // 1000  # 1 ms envelope
        energy = np.sqrt(np.add.reduceat(example.audio**2, np.arange(0, len(example.audio), hop)) / hop)
        rise = np.maximum(np.diff(np.log(energy + 1e-5)), 0)
        after_rest = np.concatenate([[True], example.notes[1:, 1] - example.notes[:-1, 2] >= 0.1])
        onsets = np.round(example.notes[after_rest, 1] * 1000).astype(int)
        scores = {lag: rise[np.clip(onsets + lag, 0, len(rise) - 1)].sum() for lag in range(-40, 41)}
        lags.append(max(scores, key=scores.get))
    assert all(-1 <= lag <= 5 for lag in lags), lags


def test_stored_notes_are_the_midi_notes() -> None:
    """The notes kept for training are exactly the notes in the MIDI file FluidSynth plays (tick-exact)."""
    line = SourceLine(
        "bach:test", "bach", "test", np.array([60, 62, 64, 65, 67, 69, 71, 72] * 3),
        np.arange(24, dtype=float), np.ones(24), np.zeros(24, bool),
    )  # fmt: skip
    (chunk,) = perform_line(line, 40, 55, 103, np.random.default_rng(0))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "line.mid"
        chunk.midi.save(path)
        (part,) = read_midi(path).parts
    read = np.array([[n.pitch, n.onset, n.offset, n.velocity] for n in part.notes])
    np.testing.assert_allclose(read, chunk.notes, atol=0.5 / TICKS_PER_SECOND)
    assert part.program == 40 and 1 in part.cc and 11 in part.cc
    assert np.all(chunk.notes[1:, 1] >= chunk.notes[:-1, 2])  # monophonic
    assert np.all((chunk.notes[:, 0] >= 55) & (chunk.notes[:, 0] <= 103))


def test_a_note_leading_up_grows_in_the_rendered_audio() -> None:
    """A note that leads up to a higher one gets a CC11 crescendo, and the audio grows louder through it."""
    rng = np.random.default_rng(5)
    for _ in range(60):  # the rule applies to all but FREE_CHOICE of the notes
        midi, notes, seconds = build_midi(np.array([69, 74]), np.array([0.3, 1.45]), np.array([1.4, 2.0]), 40, rng)
        first_note, ticks = [], 0
        for message in midi.tracks[0]:
            ticks += message.time
            if message.type == "control_change" and message.control == 11 and ticks < 1.4 * TICKS_PER_SECOND:
                first_note.append(message.value)
        if first_note[-1] - first_note[0] > 35 and all(np.diff(first_note) >= 0):  # a crescendo, not a swell
            break
    else:
        pytest.fail("the rising note never got a crescendo")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cresc.mid"
        midi.save(path)
        audio = render_midi(path, resolve_soundfont("fluidr3"), SAMPLE_RATE, seconds)
    early = np.sqrt(np.mean(audio[int(0.45 * SAMPLE_RATE) : int(0.65 * SAMPLE_RATE)] ** 2))
    late = np.sqrt(np.mean(audio[int(1.1 * SAMPLE_RATE) : int(1.35 * SAMPLE_RATE)] ** 2))
    assert 20 * np.log10(late / early) > 3.0  # FluidSynth's CC11 curve: 80 -> 116 is about 4-5 dB here


def test_short_notes_lean_towards_the_next_one() -> None:
    """A quick note rising to the next one swells into it; one falling away fades: its CC11 moves within the note."""
    slopes = {1: [], -1: []}
    for seed in range(20):
        for second in (64, 55):
            midi, _, _ = build_midi(
                np.array([60, second, 60]),
                np.array([0.0, 0.15, 0.5]),
                np.array([0.15, 0.3, 0.9]),
                40,
                np.random.default_rng(seed),
            )
            values, now = [], 0
            for message in midi.tracks[0]:
                now += message.time
                if message.type == "control_change" and message.control == 11 and now < 0.15 * TICKS_PER_SECOND:
                    values.append(message.value)
            slopes[int(np.sign(second - 60))].append(values[-1] - values[0])
    assert np.median(slopes[1]) > 5 and np.median(slopes[-1]) < -5


def test_the_performer_follows_the_phrase() -> None:
    """Phrases split at rests; velocities arch over each phrase; long notes get vibrato, short ones never."""
    from readdsp.datasets.expressive_midi import line_context

    pitches = np.array([60, 62, 64, 65, 67, 65, 64, 62, 60, 72])
    onsets = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0])
    offsets = onsets + 0.45
    context = line_context(pitches, onsets, offsets)
    assert context.phrase_end.tolist() == [False] * 8 + [True, True]  # the 0.55 s rest ends the first phrase
    assert context.direction[:4].tolist() == [1, 1, 1, 1] and context.direction[8] == 0
    velocities = np.mean(
        [build_midi(pitches, onsets, offsets, 40, np.random.default_rng(s))[1][:9, 3] for s in range(20)], axis=0
    )
    assert velocities[4] > velocities[0] + 8 and velocities[4] > velocities[8] + 8  # louder mid-phrase
    short = build_midi(np.array([60, 62]), np.array([0.0, 0.2]), np.array([0.2, 0.4]), 40, np.random.default_rng(1))
    assert all(m.pitch == 0 for m in short[0].tracks[0] if m.type == "pitchwheel")
    assert all(m.value == 0 for m in short[0].tracks[0] if m.type == "control_change" and m.control == 1)


def cc11_curve(midi: mido.MidiFile) -> tuple[np.ndarray, np.ndarray]:
    """The CC11 events of a one-track performance: times (s) and values."""
    times, values, now = [], [], 0
    for message in midi.tracks[0]:
        now += message.time
        if message.type == "control_change" and message.control == 11:
            times.append(now / TICKS_PER_SECOND)
            values.append(message.value)
    return np.array(times), np.array(values)


def test_a_phrase_ends_on_a_held_note_that_tapers() -> None:
    """A phrase's last note (here a lone 3-s note, as in a single-note test) holds its level and falls only over
    its final 0.3-0.8 s: a player does not let a long note die away from its start. Short phrase ends still fall
    over their whole length."""
    held, tapered = [], []
    for seed in range(20):
        midi = build_midi(np.array([72]), np.array([0.0]), np.array([3.0]), 73, np.random.default_rng(seed))[0]
        times, values = cc11_curve(midi)
        first_half = values[times < 1.5]
        held.append(first_half.max() - first_half.min())
        tapered.append(values[times < 2.2].min() - values[-1])
    assert np.median(held) <= 4 and np.median(tapered) >= 10, (held, tapered)
    short = [
        cc11_curve(build_midi(np.array([72]), np.array([0.0]), np.array([0.25]), 73, np.random.default_rng(s))[0])[1]
        for s in range(20)
    ]
    assert np.median([v[0] - v[-1] for v in short]) >= 5


def test_some_long_notes_are_held_steady() -> None:
    """A long note inside a phrase swells, or, on about a third of performances (STEADY_SHARE, plus the free
    choices), is held steady: a corpus without steady long notes taught the Synthesis Generator that none exist."""
    steady = 0
    for seed in range(60):
        midi = build_midi(
            np.array([60, 62, 64]),
            np.array([0.0, 0.5, 2.5]),
            np.array([0.48, 2.48, 3.0]),
            73,
            np.random.default_rng(seed),
        )[0]
        times, values = cc11_curve(midi)
        held = values[(times >= 0.5) & (times < 2.48)]
        steady += int(held.max() - held.min() <= 4)
    assert 0.2 <= steady / 60 <= 0.55, steady


def test_fluidsynth_stuck_note_is_stopped() -> None:
    """A note that never ends on a sustaining organ would run forever; the output cap kills it quickly."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack([mido.Message("program_change", program=19), mido.Message("note_on", note=60, velocity=100)])
    track.append(mido.Message("control_change", control=7, value=100, time=480))
    midi.tracks.append(track)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stuck.mid"
        midi.save(path)
        with pytest.raises(ReaDDSPError, match="stuck note|did not finish"):
            render_midi(path, resolve_soundfont("fluidr3"), 8000, 0.5, timeout_s=60)


def write_solo_zip(path: Path, solos: dict[str, list[tuple[float, float, float]]]) -> Path:
    """A zip of Weimar-Jazz-style solo CSVs (headerless `pitch,onset_s,duration_s` rows)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, rows in solos.items():
            text = io.StringIO()
            for pitch, onset, duration in rows:
                text.write(f"{pitch:.6e},{onset:.6e},{duration:.6e}\n")
            archive.writestr(f"{name}_FINAL_solo.csv", text.getvalue())
    return path


def test_jazz_goes_to_its_own_instruments_and_sources_share_the_minutes(tmp_path: Path) -> None:
    fast_line = [(62 + i % 7, 0.12 * i, 0.1) for i in range(200)]  # 24 s of bebop-like eighths
    zip_path = write_solo_zip(tmp_path / "solos.zip", {f"Player{k}_Tune{k}": fast_line for k in range(40)})
    settings = CorpusSettings(minutes_per_instrument=2.0, sources=("bach", "folk", "jazz"), jazz_zip=str(zip_path))
    assert sources_for(settings, "violin") == ("bach", "folk")
    assert sources_for(settings, "trumpet") == ("bach", "folk", "jazz")
    assert {c.source for c in plan_instrument(settings, INSTRUMENTS["violin"], 0)} == {"bach", "folk"}
    chunks = plan_instrument(settings, INSTRUMENTS["trumpet"], 4)
    train = [c for c in chunks if split_for_piece(c.piece_id) == "train"]
    seconds = {s: sum(c.midi_seconds for c in train if c.source == s) for s in ("bach", "folk", "jazz")}
    # each source gets about a third of the training minutes, although a jazz chunk holds several times the notes
    assert max(seconds.values()) - min(seconds.values()) <= max(c.midi_seconds for c in train), seconds
    assert min(seconds.values()) > 0


def test_long_tones_are_lone_held_notes_over_the_whole_range_at_their_share() -> None:
    settings = CorpusSettings(minutes_per_instrument=6.0, sources=("bach", "folk", "longtones"))
    flute = INSTRUMENTS["flute"]
    chunks = plan_instrument(settings, flute, 2)
    tones = np.concatenate([c.notes for c in chunks if c.source == "longtones"])
    pitch, onset, offset, velocity = tones.T
    assert np.all((pitch >= flute.low) & (pitch <= flute.high))
    assert pitch.min() <= flute.low + 6 and pitch.max() >= flute.high - 6  # low register to high
    # held: no shorter than the shortest tone, stretched and articulated (x 0.85 x 0.8); lone: rests between
    assert np.all(offset - onset >= LONG_TONE_SECONDS[0] * 0.85 * 0.8 - 0.01)
    gaps = onset[1:] - offset[:-1]
    assert np.median(gaps[gaps > -1]) >= 0.3
    assert velocity.min() <= 50 and velocity.max() >= 100  # soft and loud
    train = [c for c in chunks if split_for_piece(c.piece_id) == "train"]
    seconds = {s: sum(c.midi_seconds for c in train if c.source == s) for s in settings.sources}
    music = (seconds["bach"] + seconds["folk"]) / 2
    longest = max(c.midi_seconds for c in train)
    assert abs(seconds["longtones"] - SOURCE_WEIGHTS["longtones"] * music) <= longest, seconds


def test_fit_range_moves_lines_by_octaves_into_range() -> None:
    moved = fit_range(np.array([40, 45, 47, 52, 30]), 55, 103)
    assert np.all((moved >= 55) & (moved <= 103))
    assert np.all((moved - np.array([40, 45, 47, 52, 30])) % 12 == 0)


def test_folk_and_jazz_sources_give_monophonic_lines(tmp_path: Path) -> None:
    (line,) = next(folk_pieces(seed=1))
    assert line.source == "folk" and len(line.pitches) >= 8
    assert np.all(line.starts[1:] >= line.starts[:-1] + line.durations[:-1] - 1e-6)
    rows = [(60 + i % 5, 0.5 + 0.25 * i, 0.3) for i in range(20)]
    zip_path = write_solo_zip(tmp_path / "solos.zip", {"Someone_Tune": rows})
    (jazz,) = next(jazz_pieces(zip_path))
    assert jazz.piece_id == "jazz:Someone_Tune" and jazz.performed
    np.testing.assert_allclose(jazz.starts, 0.25 * np.arange(20))
    np.testing.assert_allclose(jazz.durations, [0.25] * 19 + [0.3])  # cut where the next note starts


def test_cli_refuses_unknown_instrument_and_existing_output(tmp_path: Path, capsys) -> None:
    assert main(["dataset", "render-corpus", "-o", str(tmp_path / "x"), "--instruments", "kazoo"]) == 2
    assert "unknown instrument 'kazoo'" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    assert main(["dataset", "render-corpus", "-o", str(tmp_path / "full"), "--instruments", "violin"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    assert not (tmp_path / "x").exists()
