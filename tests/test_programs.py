"""Tests for readdsp.core.programs: the instruments table and the GM program / register fallbacks."""

from __future__ import annotations

import itertools

import pytest

from readdsp.core.performance import Note, Part
from readdsp.core.programs import (
    DEFAULT_INSTRUMENT,
    INSTRUMENTS,
    PROGRAM_CHAINS,
    instrument_for_part,
    instrument_for_program,
)

MIDI_DDSP_PROGRAMS = {
    40: "violin",
    41: "viola",
    42: "cello",
    43: "double_bass",
    73: "flute",
    68: "oboe",
    71: "clarinet",
    66: "saxophone",
    70: "bassoon",
    56: "trumpet",
    60: "horn",
    57: "trombone",
    58: "tuba",
    26: "guitar",
}


def test_table_is_consistent() -> None:
    assert len(INSTRUMENTS) == 14
    seen: set[int] = set()
    for name, inst in INSTRUMENTS.items():
        assert inst.name == name and 0 <= inst.low < inst.high <= 127
        assert all(0 <= p < 128 for p in inst.programs) and not seen & set(inst.programs)
        seen |= set(inst.programs)
        assert inst.family in {"strings", "woodwinds", "brass", "plucked"}
    assert set(range(64, 68)) <= set(INSTRUMENTS["saxophone"].programs)
    assert set(range(24, 32)) == set(INSTRUMENTS["guitar"].programs)


@pytest.mark.parametrize(("program", "name"), sorted(MIDI_DDSP_PROGRAMS.items()))
def test_midi_ddsp_programs_map_exactly(program: int, name: str) -> None:
    assert instrument_for_program(program) == name
    assert instrument_for_program(program, available=INSTRUMENTS) == name


@pytest.mark.parametrize(
    ("program", "name"),
    [
        (69, "oboe"),
        (72, "flute"),
        (61, "horn"),
        (33, "double_bass"),
        (48, "violin"),
        (0, "guitar"),
        (19, "clarinet"),
    ],
)
def test_related_programs_fall_back_sensibly(program: int, name: str) -> None:
    assert instrument_for_program(program) == name


def test_drums_give_none() -> None:
    assert instrument_for_program(0, is_drum=True) is None
    assert instrument_for_program(40, is_drum=True, available={"violin"}) is None
    assert instrument_for_part(Part(is_drum=True, channel=9, notes=[Note(36, 0, 1)])) is None


def test_every_program_maps_with_and_without_available() -> None:
    names = sorted(INSTRUMENTS)
    subsets = [set(names), {"violin"}, {"tuba"}, {"flute", "cello"}, {"guitar"}, {"my_custom_synth"}]
    subsets += [set(c) for c in itertools.combinations(names, 2)]
    for program in range(128):
        assert PROGRAM_CHAINS[program], program
        assert instrument_for_program(program) in INSTRUMENTS
        for available in subsets:
            choice = instrument_for_program(program, available=available)
            assert choice in available, (program, available)
        assert instrument_for_program(program, available=set()) is None
    assert instrument_for_program(-5) == instrument_for_program(0)
    assert instrument_for_program(500) == instrument_for_program(127)


def test_fallback_within_available_prefers_family_then_default() -> None:
    assert instrument_for_program(56, available={"horn", "violin"}) == "horn"  # brass chain
    assert instrument_for_program(56, available={"tuba", "violin"}) == "tuba"  # same family
    assert instrument_for_program(56, available={"flute", "violin"}) == DEFAULT_INSTRUMENT
    assert instrument_for_program(56, available={"flute", "oboe"}) == "flute"  # alphabetical last resort
    assert instrument_for_program(71, available={"saxophone", "violin"}) == "saxophone"


def _part(program: int, pitches: list[int], instrument: str | None = None) -> Part:
    notes = [Note(p, i * 0.5, i * 0.5 + 0.4) for i, p in enumerate(pitches)]
    return Part(program=program, notes=notes, instrument=instrument)


def test_part_register_chooses_within_family() -> None:
    assert instrument_for_part(_part(40, [67, 71, 74, 79])) == "violin"
    assert instrument_for_part(_part(40, [36, 40, 43, 48, 50])) == "cello"
    assert instrument_for_part(_part(40, [31, 36, 40, 43])) == "double_bass"  # below the cello
    assert instrument_for_part(_part(42, [28, 31, 33, 35])) == "double_bass"
    assert instrument_for_part(_part(56, [33, 36, 38])) == "tuba"
    assert instrument_for_part(_part(40, [36, 40, 43]), available={"violin", "viola"}) == "viola"
    assert instrument_for_part(_part(40, [36, 40, 43]), available={"violin", "flute"}) == "violin"


def test_part_explicit_instrument_wins_when_available() -> None:
    assert instrument_for_part(_part(40, [60], instrument="flute")) == "flute"
    assert instrument_for_part(_part(40, [60], instrument="flute"), available={"violin"}) == "violin"
    assert instrument_for_part(Part(program=73)) == "flute"  # no notes: by program only
