"""The instruments table and the mapping of GM programs (and part registers) to ReaDDSP instruments.

Programs are 0-indexed (0 = Acoustic Grand Piano, 40 = Violin), as in mido and MIDI-DDSP.

Fallback rule of `instrument_for_program` (documented, never raises):
 1. drums (channel 10, `is_drum=True`) -> None: the caller skips the part and says so;
 2. the program's own chain in `PROGRAM_CHAINS`: the exact MIDI-DDSP instrument first (40 violin, 42 cello,
    ...), then close relatives (69 English horn -> oboe, 72 piccolo -> flute, 32-39 basses -> double_bass,
    ...), then the instruments preferred for its GM family (`FAMILY_CHAINS`, e.g. brass -> trumpet, horn);
    without `available` the chain's first instrument is the answer;
 3. with `available` (the instruments a bundle holds): the first available instrument of that chain; else the
    alphabetically first available instrument of the chain head's family (strings, woodwinds, brass,
    plucked); else `DEFAULT_INSTRUMENT` ("violin") if available; else the alphabetically first available
    instrument; None only when `available` is empty.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from readdsp.core.performance import Part

DRUM_CHANNEL = 9  # MIDI channel 10, 0-indexed
DEFAULT_INSTRUMENT = "violin"


@dataclass(frozen=True)
class Instrument:
    """One ReaDDSP instrument: GM programs (0-indexed, the first is canonical), sounding range, family."""

    name: str
    programs: tuple[int, ...]
    low: int  # lowest playable MIDI pitch (sounding)
    high: int  # highest playable MIDI pitch (sounding)
    family: str  # "strings", "woodwinds", "brass" or "plucked"

    @property
    def program(self) -> int:
        return self.programs[0]

    def covers(self, pitch: int) -> bool:
        return self.low <= pitch <= self.high

    @property
    def pitch_range(self) -> tuple[int, int]:
        return self.low, self.high


#: The MIDI-DDSP instruments (ids 0-12) plus guitar, with their GM programs and practical sounding ranges.
INSTRUMENTS: dict[str, Instrument] = {
    inst.name: inst
    for inst in (
        Instrument("violin", (40,), 55, 103, "strings"),
        Instrument("viola", (41,), 48, 88, "strings"),
        Instrument("cello", (42,), 36, 81, "strings"),
        Instrument("double_bass", (43,), 28, 67, "strings"),
        Instrument("flute", (73,), 60, 98, "woodwinds"),
        Instrument("oboe", (68,), 58, 93, "woodwinds"),
        Instrument("clarinet", (71,), 50, 94, "woodwinds"),
        Instrument("saxophone", (66, 64, 65, 67), 44, 81, "woodwinds"),
        Instrument("bassoon", (70,), 34, 76, "woodwinds"),
        Instrument("trumpet", (56,), 54, 86, "brass"),
        Instrument("horn", (60,), 35, 77, "brass"),
        Instrument("trombone", (57,), 40, 77, "brass"),
        Instrument("tuba", (58,), 26, 65, "brass"),
        Instrument("guitar", (24, 25, 26, 27, 28, 29, 30, 31), 40, 88, "plucked"),
    )
}

#: Preferred instruments for each GM family (program // 8), most similar first.
FAMILY_CHAINS: dict[int, tuple[str, ...]] = {
    0: ("guitar",),  # piano: struck and decaying, closest to plucked
    1: ("guitar", "flute"),  # chromatic percussion
    2: ("clarinet", "flute"),  # organ: sustained, odd-harmonic rich
    3: ("guitar", "cello"),  # guitar
    4: ("double_bass", "cello"),  # bass
    5: ("violin", "cello"),  # strings
    6: ("violin", "flute"),  # ensemble (string ensembles, choir)
    7: ("trumpet", "horn"),  # brass
    8: ("clarinet", "saxophone", "oboe"),  # reed
    9: ("flute", "clarinet"),  # pipe
    10: ("violin", "clarinet"),  # synth lead
    11: ("violin", "flute"),  # synth pad
    12: ("violin",),  # synth effects
    13: ("guitar", "violin"),  # ethnic
    14: ("guitar",),  # percussive
    15: ("violin",),  # sound effects
}

#: Programs that are not an instrument's own but have a clearly closer match than their family's head.
_CLOSE_RELATIVES: dict[int, str] = {
    **{p: "double_bass" for p in range(32, 40)},
    44: "violin",  # tremolo strings
    45: "violin",  # pizzicato strings
    46: "guitar",  # harp: plucked
    47: "cello",  # timpani: low and pitched
    **{p: "violin" for p in range(48, 52)},  # string ensembles
    59: "trumpet",  # muted trumpet
    61: "horn",  # brass section
    62: "trumpet",
    63: "trumpet",
    69: "oboe",  # English horn
    **{p: "flute" for p in (72, 74, 75, 76, 77, 78, 79)},  # piccolo, recorder, pan flute, ...
    80: "clarinet",  # square lead: odd harmonics
    81: "violin",  # sawtooth lead: all harmonics, like a bowed string
    82: "flute",  # calliope
    83: "flute",  # chiff
    **{p: "guitar" for p in range(104, 109)},  # sitar, banjo, shamisen, koto, kalimba
    109: "oboe",  # bagpipe
    110: "violin",  # fiddle
    111: "oboe",  # shanai
}


def _dedupe(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _build_program_chains() -> dict[int, tuple[str, ...]]:
    own = {p: inst.name for inst in INSTRUMENTS.values() for p in inst.programs}
    chains = {}
    for program in range(128):
        head = [own[program]] if program in own else []
        if program in _CLOSE_RELATIVES:
            head.append(_CLOSE_RELATIVES[program])
        chains[program] = _dedupe([*head, *FAMILY_CHAINS[program // 8]])
    return chains


#: For every program 0..127, the instruments to try in order, most fitting first.
PROGRAM_CHAINS: dict[int, tuple[str, ...]] = _build_program_chains()


def _pick_available(chain: tuple[str, ...], available: Collection[str]) -> str | None:
    for name in chain:
        if name in available:
            return name
    head = INSTRUMENTS.get(chain[0])
    if head is not None:
        same_family = sorted(n for n in available if n in INSTRUMENTS and INSTRUMENTS[n].family == head.family)
        if same_family:
            return same_family[0]
    if DEFAULT_INSTRUMENT in available:
        return DEFAULT_INSTRUMENT
    return min(available) if available else None


def instrument_for_program(program: int, is_drum: bool = False, available: Collection[str] | None = None) -> str | None:
    """The ReaDDSP instrument for a GM program (0-indexed), following the module's fallback rule.

    Returns None for drums, or when `available` is given but empty. Programs outside 0..127 are clamped.
    """
    if is_drum:
        return None
    chain = PROGRAM_CHAINS[min(max(int(program), 0), 127)]
    if available is None:
        return chain[0]
    return _pick_available(chain, set(available))


#: GM families without a neural instrument of their own, named for the fallback message.
_FAMILIES_WITHOUT_MODEL = {0: "piano", 1: "chromatic percussion", 2: "organ", 14: "percussive", 15: "sound effects"}


def fallback_message(program: int, instrument: str) -> str | None:
    """A one-line note when a program's family has no instrument of its own (piano, chromatic percussion, ...)
    and `instrument` stands in for it; None for the program's own instrument or a close relative."""
    program = min(max(int(program), 0), 127)
    family = _FAMILIES_WITHOUT_MODEL.get(program // 8)
    if family is None or program in _CLOSE_RELATIVES:
        return None
    return f"GM program {program} ({family}) has no neural {family} instrument; it maps to the {instrument}"


def instrument_for_part(part: Part, available: Collection[str] | None = None) -> str | None:
    """The instrument for a part: its explicit `instrument` if usable, else by program, refined by register.

    Register rule: among the instruments of the program's family (and in `available`, if given), take the one
    whose range covers the most of the part's notes, then the one the uncovered notes miss by the fewest
    semitones; the program's own choice wins ties, then the instrument whose range centre is nearest the
    program's choice (the smallest change). So a low part on program 40 becomes a cello, not a double bass,
    unless it goes below the cello's range.
    """
    if part.is_drum:
        return None
    pool = set(INSTRUMENTS) if available is None else set(available)
    if part.instrument is not None and part.instrument in pool:
        return part.instrument
    choice = instrument_for_program(part.program, available=pool)
    if choice is None or choice not in INSTRUMENTS or not part.notes:
        return choice
    pitches = [n.pitch for n in part.notes]
    chosen = INSTRUMENTS[choice]
    family = chosen.family
    candidates = [INSTRUMENTS[n] for n in sorted(pool) if n in INSTRUMENTS and INSTRUMENTS[n].family == family]

    def score(inst: Instrument) -> tuple[float, int, bool, int]:
        coverage = sum(inst.covers(p) for p in pitches) / len(pitches)
        outside = sum(max(inst.low - p, p - inst.high, 0) for p in pitches)
        return coverage, -outside, inst.name == choice, -abs(inst.low + inst.high - chosen.low - chosen.high)

    return max(candidates, key=score).name
