"""The audio evaluation around the measurements: real FluidSynth beside ours, calibration, real recordings, card."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import random_bundle_config, shared_data

from readdsp.core.bundle import calibration_gains_db, load_bundle
from readdsp.core.levels import REFERENCE_LUFS
from readdsp.core.performance import Note
from readdsp.core.render import Renderer
from readdsp.training import audio_checks, calibration, held_notes, real_recordings
from readdsp.training.audio_measures import PitchTrack
from readdsp.training.model_card import write_model_card
from readdsp.training.reference_renders import one_part, soundfont_render


@pytest.fixture(scope="module")
def renderer(random_bundle) -> Renderer:
    return Renderer.load(random_bundle)


def test_the_test_phrase_stays_in_range_and_leaves_rests_for_the_release_check() -> None:
    notes = audio_checks.test_phrase("cello")
    assert all(36 <= n.pitch <= 81 for n in notes)
    gaps = [b.onset - a.offset for a, b in zip(notes, notes[1:], strict=False)]
    assert sum(g >= 0.45 for g in gaps) >= 4


def test_a_dry_fluidsynth_render_passes_the_checks_it_is_the_anchor_for(renderer: Renderer) -> None:
    row = audio_checks.check_instrument(renderer, "clarinet", "fluidr3")
    fluid = row["fluidsynth"]
    assert fluid["pitch"]["within_25_cents"] >= 0.9
    assert fluid["release"]["median_drop_db"] > 20.0
    assert fluid["mel_distance_to_source_db"] == 0.0  # FluidR3_GM is the source here
    assert set(row["ours"]) == set(fluid)


def test_a_held_notes_level_course_reads_a_fade_and_a_hold() -> None:
    """A tone fading by 10 dB over its length reads -3 dB at half and -7 dB at 90% (against 20%); a held tone 0."""
    note = held_notes.held_note("clarinet")
    t = np.arange(int((note.offset + 0.5) * held_notes.RATE)) / held_notes.RATE
    inside = (t >= note.onset) & (t < note.offset)
    fade_db = -10.0 * np.clip((t - note.onset) / note.duration, 0.0, 1.0)
    tone = 0.1 * np.sin(2 * np.pi * 440.0 * t) * inside
    faded = held_notes.level_course(tone * 10 ** (fade_db / 20), held_notes.RATE, note)
    held = held_notes.level_course(tone, held_notes.RATE, note)
    assert faded["at_50"] == pytest.approx(-3.0, abs=0.3) and faded["at_90"] == pytest.approx(-7.0, abs=0.3)
    assert abs(held["at_50"]) < 0.1 and abs(held["at_90"]) < 0.1


def test_the_source_soundfont_holds_its_notes(renderer: Renderer, tmp_path) -> None:
    """The held-note check's anchor: FluidR3_GM's clarinet and violin hold a 4-s note within 3 dB; the card shows
    the figures."""
    result = held_notes.held_notes(renderer, "fluidr3")
    assert result["source_soundfont"] == "FluidR3_GM" and set(result["instruments"]) == set(renderer.instruments)
    for name in ("clarinet", "violin"):
        row = result["instruments"][name]
        assert all(np.isfinite(v) for v in row["ours"].values())
        assert abs(row["source"]["at_50"]) < 3.0 and abs(row["source"]["at_90"]) < 3.0, (name, row)
    card = write_model_card(tmp_path / "card.md", random_bundle_config() | {"name": "x"}, {"held_notes": result}, {})
    row = result["instruments"]["clarinet"]
    ours, source = (round(row[side]["at_50"], 1) + 0.0 for side in ("ours", "source"))  # no "-0.0" on the card
    assert f"| clarinet | {ours:.1f} / {source:.1f} |" in card.read_text()


def test_calibration_brings_every_instrument_to_the_reference(renderer: Renderer) -> None:
    result = calibration.calibrate(renderer)
    assert set(result["gains_db"]) == set(renderer.instruments)
    for lufs in result["calibrated_lufs"].values():
        assert lufs == pytest.approx(REFERENCE_LUFS, abs=0.05)
    for name, gain in result["gains_db"].items():
        assert gain == pytest.approx(REFERENCE_LUFS - result["uncalibrated_lufs"][name], abs=0.01)


def test_balance_trims_take_back_only_an_excess_over_the_source_balance_and_at_most_the_limit() -> None:
    from readdsp.core.levels import BALANCE_LIMIT_DB

    # "hot" plays 6 dB over ours' median where the source's plays level with its own: lowered by the limit;
    # "warm" is 1 dB over both medians alike: kept; "quiet" under the median is never raised
    ours = {"hot": -20.0, "warm": -25.0, "mid": -26.0, "quiet": -30.0}
    source = {"hot": -24.0, "warm": -23.0, "mid": -24.0, "quiet": -24.0}
    assert calibration.balance_trims(ours, source) == {"hot": -BALANCE_LIMIT_DB, "warm": 0.0, "mid": 0.0, "quiet": 0.0}
    assert calibration.balance_trims({"a": -20.0, "b": -23.0}, {"a": -22.0, "b": -22.0}) == {"a": -1.5, "b": 0.0}


def test_calibration_with_the_source_balance_only_lowers_and_within_the_limit(renderer: Renderer) -> None:
    from readdsp.core.levels import BALANCE_LIMIT_DB

    result = calibration.calibrate(renderer, source_soundfont="fluidr3")
    trims = result["balance"]["trims_db"]
    assert set(trims) == set(renderer.instruments)
    for name, trim in trims.items():
        assert -BALANCE_LIMIT_DB <= trim <= 0.0
        assert result["gains_db"][name] == pytest.approx(
            REFERENCE_LUFS - result["uncalibrated_lufs"][name] + trim, abs=0.02
        )
        assert result["calibrated_lufs"][name] == pytest.approx(REFERENCE_LUFS + trim, abs=0.05)


def test_the_calibration_note_holds_volume_half_and_generated_controls(renderer: Renderer) -> None:
    note = calibration.calibration_note(renderer, "violin").parts[0].notes[0]
    assert note.duration == pytest.approx(2.0) and note.velocity == 100
    assert note.controls()["volume"] == 0.5


def test_constant_velocity_phrases_are_rendered_alone_and_measured_on_their_third_note(renderer: Renderer) -> None:
    phrase = calibration.constant_phrase("flute", 60).parts[0].notes
    assert len(phrase) == calibration.PHRASE_NOTES and {n.velocity for n in phrase} == {60}
    spread = calibration.phrase_loudness_range(renderer, "flute")
    assert np.isfinite(spread) and spread >= 0.0
    quiet = renderer.render(calibration.constant_phrase("flute", 20), calibration.RATE).mix
    loud = renderer.render(calibration.constant_phrase("flute", 127), calibration.RATE).mix
    assert not np.array_equal(quiet, loud)  # velocity reaches the audio through the generated expression


def test_volume_saturation_counts_notes_at_the_ends(renderer: Renderer) -> None:
    perf = audio_checks.one_part(audio_checks.test_phrase("violin"), 40, "violin")
    rows = calibration.volume_saturation(renderer, [("phrase", perf)])
    assert rows["phrase"]["notes"] == len(audio_checks.STEPS)
    assert 0.0 <= rows["phrase"]["share_at_1"] <= rows["phrase"]["share_at_0_or_1"] <= 1.0


def test_note_names_and_target_e() -> None:
    assert real_recordings.pitch_from_name("As4") == 70 and real_recordings.pitch_from_name("C2") == 36
    rival = {
        "log_mel_db": 10.0,
        "spectral_envelope_db": 9.0,
        "pitch_deviation_diff_cents": 3.0,
        "loudness_contour_r": 0.5,
    }
    better = {
        "log_mel_db": 9.0,
        "spectral_envelope_db": 8.0,
        "pitch_deviation_diff_cents": 3.0,
        "loudness_contour_r": 0.5,
    }
    assert real_recordings.beats(better, rival)
    assert not real_recordings.beats(rival, rival)  # log-mel and envelope must be lower, not equal
    assert not real_recordings.beats(better | {"loudness_contour_r": 0.4}, rival)
    assert not real_recordings.beats(better | {"pitch_deviation_diff_cents": 3.5}, rival)


def fake_rows() -> dict:
    def system(x: float) -> dict:
        return {
            "log_mel_db": x,
            "spectral_envelope_db": x,
            "pitch_deviation_diff_cents": 1.0,
            "loudness_contour_r": 0.5,
        }

    return {
        "a": {"instrument": "violin", "rendered_as": "violin", "notes": 1, "ours": system(8.0),
              "FluidR3_GM": system(9.0), "MuseScore_General": system(10.0)},
        "b": {"instrument": "oboe", "rendered_as": "clarinet", "notes": 2, "ours": system(12.0),
              "FluidR3_GM": system(9.0), "MuseScore_General": system(10.0)},
    }  # fmt: skip


def test_the_per_instrument_table_decides_target_e_on_native_instruments(tmp_path) -> None:
    table = real_recordings.per_instrument_table(fake_rows())
    assert table["instruments"]["violin"]["beats_musescore"] and table["instruments"]["violin"]["native"]
    assert not table["instruments"]["oboe"]["native"]
    assert table["overall"]["target_e"]  # the oboe is not the bundle's: it is reported, not counted
    card = write_model_card(
        tmp_path / "card.md", random_bundle_config() | {"name": "x"}, {"real_recordings": table}, {}
    )
    text = card.read_text()
    assert "| violin (violin) | 1 | 8.00 / 9.00 / 10.00" in text
    assert "Target E met on every native instrument: yes." in text


def test_pitch_movement_is_folded_by_note_length_over_the_notes_every_system_could_be_measured_on() -> None:
    def row(lengths: list[float], real: list, ours: list) -> dict:
        spreads = {"length_s": lengths, "real": real, "ours": ours, "FluidR3_GM": real, "MuseScore_General": ours}
        return {real_recordings.NOTE_SPREADS: spreads}

    rows = [row([0.1, 0.25, 0.25], [1.0, 2.0, 4.0], [0.5, 1.0, None]), row([0.28, 2.0], [3.0, 8.0], [2.0, 5.0])]
    table = real_recordings.movement_by_length(rows)
    assert list(table) == ["0-0.2 s", "0.2-0.3 s", "0.3-0.5 s", "0.5-1 s", "1 s and over"]
    assert table["0-0.2 s"] == {"notes": 1, "real": 1.0, "ours": 0.5, "FluidR3_GM": 1.0, "MuseScore_General": 0.5}
    assert table["0.2-0.3 s"]["notes"] == 2 and table["0.2-0.3 s"]["real"] == 2.5  # the unmeasured render is out
    assert table["0.3-0.5 s"] == {"notes": 0, "real": None, "ours": None, "FluidR3_GM": None, "MuseScore_General": None}
    assert table["1 s and over"]["ours"] == 5.0


def test_audio_check_command_writes_json_and_card(random_bundle, tmp_path) -> None:
    from readdsp.scripts.cli import main

    out, card = tmp_path / "audio.json", tmp_path / "card.md"
    assert main(["audio-check", str(random_bundle), "--no-phrases", "-o", str(out), "--card", str(card)]) == 0
    assert json.loads(out.read_text()) == {}
    assert "## Reproduce" in card.read_text()
    assert calibration_gains_db(load_bundle(random_bundle)) == dict.fromkeys(
        load_bundle(random_bundle).instruments, 0.0
    )


def test_real_phrases_are_transcribed_and_compared_by_every_system(random_bundle, tmp_path) -> None:
    import soundfile as sf

    from readdsp.scripts.cli import main
    from readdsp.training.reference_renders import program_of

    notes = [Note(69, 0.2, 0.7, 90), Note(72, 0.7, 1.2, 90), Note(76, 1.4, 2.2, 90)]
    phrases = tmp_path / "phrases"
    (phrases / "violin").mkdir(parents=True)
    phrase = soundfont_render(one_part(notes, program_of("violin")), "musescore", 44100)
    sf.write(phrases / "violin" / "line.wav", phrase, 44100)
    (phrases / "violin" / "notes.txt").write_text("not audio: ignored")
    out, card = tmp_path / "audio.json", tmp_path / "card.md"
    args = ["audio-check", str(random_bundle), "--no-phrases", "--real-phrases", str(phrases), "-o", str(out)]
    assert main([*args, "--card", str(card)]) == 0
    real = json.loads(out.read_text())["real_phrases"]
    row = real["recordings"]["violin/line"]
    assert row["notes"] == 3 and real["instruments"]["violin"]["recordings"] == 1  # heard, not told
    # the phrase is MuseScore_General's own: its re-render of the transcribed notes comes closest
    assert row["MuseScore_General"]["log_mel_db"] < min(row["FluidR3_GM"]["log_mel_db"], row["ours"]["log_mel_db"])
    movement = real["instruments"]["violin"]["pitch_movement_by_length"]  # the notes' spreads, folded by length
    assert movement["0.5-1 s"]["notes"] >= 2 and sum(b["notes"] for b in movement.values()) <= 3
    assert all(movement["0.5-1 s"][k] >= 0.0 for k in ("real", "ours", "FluidR3_GM", "MuseScore_General"))
    assert real_recordings.NOTE_SPREADS not in row  # per-note lists stay out of the results
    assert "## Real phrases (`phrases/`, transcribed), dry" in card.read_text()
    assert "Within-note pitch movement by note length" in card.read_text()
    missing = ["audio-check", str(random_bundle), "--no-phrases", "--real-phrases", str(tmp_path / "none")]
    assert main([*missing, "-o", str(tmp_path / "x.json")]) == 2 and not (tmp_path / "x.json").exists()
    (phrases / "my flute").mkdir()  # a folder that names no instrument: one line, nothing written
    assert main([*args[:-1], str(tmp_path / "y.json")]) == 2 and not (tmp_path / "y.json").exists()


def test_philharmonia_and_tinysol_notes_sound_at_the_pitch_their_names_give() -> None:
    root = shared_data()
    if not (root / "philharmonia").is_dir():
        pytest.skip(f"shared data not found at {root} (set READDSP_SHARED_DATA)")
    found = list(real_recordings.philharmonia(root, per_instrument=3)) + list(real_recordings.tinysol(root))
    assert {r.instrument for r in found} >= {"oboe", "bass-clarinet", "flute"}
    for rec in found:
        (note,) = rec.notes
        tracked = PitchTrack.of(rec.audio, real_recordings.RATE).sustained(note)
        assert abs(np.median(tracked) - note.pitch) < 1.0, rec.label  # players sit up to ~60 cents off at the top
        assert 0.0 <= note.onset < note.offset <= len(rec.audio) / real_recordings.RATE


def test_imitation_is_measured_against_the_dataset_audio(renderer: Renderer, tmp_path) -> None:
    """A dataset whose audio is FluidR3_GM playing its own MIDI: FluidSynth's distance to it is 0, ours is not."""
    from readdsp.datasets.cache import DatasetWriter, split_for_piece
    from readdsp.training.reference_renders import soundfont_render

    sr = 16000
    piece = next(f"piece{i}" for i in range(1000) if split_for_piece(f"piece{i}") == "test")
    perf = audio_checks.one_part(audio_checks.test_phrase("flute")[:6], 73, "flute")
    audio = soundfont_render(perf, "fluidr3", sr)
    frames = len(audio) * 250 // sr
    audio = audio[: frames * sr // 250]
    notes = np.array([[n.pitch, n.onset, n.offset, n.velocity] for n in perf.parts[0].notes])
    zeros = np.zeros(frames, np.float32)
    with DatasetWriter(tmp_path / "data", sr) as writer:
        writer.add("flute-0", audio, zeros, zeros, zeros, notes, "flute", piece, "test-lines")
    table = audio_checks.imitation_on_dataset(renderer, tmp_path / "data", "test")
    assert table["flute"]["examples"] == 1
    assert table["flute"]["fluidsynth"] == pytest.approx(0.0, abs=0.05)
    assert table["flute"]["ours"] > 1.0


def test_a_clip_cut_from_the_middle_of_a_note_is_rendered_across_its_cut() -> None:
    """A recording sounding at its first and last frame is re-rendered from before its start and on past its end,
    so that the soundfont render's first frame is a held note, as the recording's is; a clip that starts from
    silence keeps its note as transcribed."""
    rate = real_recordings.RATE
    t = np.arange(rate) / rate
    held = 0.3 * np.sin(2 * np.pi * 293.66 * t).astype(np.float32)  # 1 s from inside a held D4
    assert real_recordings.sounding_edges(held) == (True, True)
    notes, lead = real_recordings.notes_across_edges([Note(62, 0.01, 0.97, 90)], held)
    assert lead == real_recordings.EDGE_LEAD_S
    assert notes[0].onset == 0.0 and notes[0].offset >= lead + 1.0 + real_recordings.EDGE_LEAD_S - 1e-9

    render = soundfont_render(one_part(notes, 71), "musescore", rate)[int(lead * rate) :][:rate]
    level = 20 * np.log10(np.sqrt(np.mean(render[: len(render) // 882 * 882].reshape(-1, 882) ** 2, axis=1)) + 1e-9)
    assert level[0] > level.max() - real_recordings.EDGE_WITHIN_DB  # no attack from silence at the cut

    attack = held * np.clip(t / 0.2, 0.0, 1.0) ** 3  # a note that starts inside the clip
    attack[: int(0.1 * rate)] = 0.0
    assert real_recordings.sounding_edges(attack) == (False, True)
    notes, lead = real_recordings.notes_across_edges([Note(62, 0.1, 0.97, 90)], attack)
    assert lead == 0.0 and notes[0].onset == 0.1


def test_audio_check_measures_the_real_excerpts_as_evaluate_does(random_bundle, tmp_path) -> None:
    import soundfile as sf

    from readdsp.scripts.cli import main
    from readdsp.training.real_excerpts import CLIPS
    from readdsp.training.reference_renders import program_of

    flute_clip = next(rel for rel, instrument in CLIPS.items() if instrument == "flute")
    excerpts = tmp_path / "real-excerpts"
    (excerpts / flute_clip).parent.mkdir(parents=True)
    played = soundfont_render(one_part([Note(72, 0.2, 1.2, 90)], program_of("flute")), "musescore", 44100)
    sf.write(excerpts / flute_clip, played, 44100)
    copy = tmp_path / random_bundle.name
    copy.write_bytes(random_bundle.read_bytes())
    out = tmp_path / "audio.json"
    assert main(["audio-check", str(copy), "--no-phrases", "--real-excerpts", str(excerpts), "-o", str(out)]) == 0
    table = json.loads(out.read_text())["real_excerpts"]
    assert set(table) == {flute_clip, "mean"} and table[flute_clip]["notes"] == 1
    assert table["mean"]["ours_db"] == table[flute_clip]["ours_db"] > 0
    missing = ["audio-check", str(copy), "--no-phrases", "--real-excerpts", str(tmp_path / "none")]
    assert main([*missing, "-o", str(tmp_path / "x.json")]) == 2 and not (tmp_path / "x.json").exists()


def test_audio_check_renders_with_the_seed_it_is_given(random_bundle, tmp_path) -> None:
    import soundfile as sf

    from readdsp.scripts.cli import main
    from readdsp.training.reference_renders import program_of

    phrases = tmp_path / "phrases"
    (phrases / "violin").mkdir(parents=True)
    notes = [Note(69, 0.2, 0.9, 90), Note(76, 1.0, 1.8, 90)]
    sf.write(
        phrases / "violin" / "line.wav",
        soundfont_render(one_part(notes, program_of("violin")), "musescore", 44100),
        44100,
    )
    rows = {}
    for seed in ("0", "1"):
        out, card = tmp_path / f"audio{seed}.json", tmp_path / f"card{seed}.md"
        args = ["audio-check", str(random_bundle), "--no-phrases", "--real-phrases", str(phrases), "--seed", seed]
        assert main([*args, "-o", str(out), "--card", str(card)]) == 0
        rows[seed] = json.loads(out.read_text())["real_phrases"]["recordings"]["violin/line"]
        assert (f"--seed {seed}" in card.read_text()) == (seed != "0")  # the card's command says which draw
    assert rows["0"]["MuseScore_General"] == rows["1"]["MuseScore_General"]  # FluidSynth draws nothing
    assert rows["0"]["ours"]["log_mel_db"] != rows["1"]["ours"]["log_mel_db"]
