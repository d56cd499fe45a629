"""The one MIDI rule set: note pairing, pitch-bend range (RPN 0), programs, and events in ticks -> a `Performance`.

Both readers use it: `core/midi_io.py` (a .mid file) and the REAPER paths (an item's PPQ events, from an .RPP
source or from REAPER itself). Rules:
- Note pairing, per (channel, pitch): one note sounds per key, as in FluidSynth and in REAPER's MIDI editor. A
  note-on ends the key's sounding note at its tick and starts a new one (FluidSynth moves the key's voice to its
  release: `fluid_synth_release_voice_on_same_note_LOCAL`; REAPER's "correct overlapping notes" trims the earlier
  note where the later one starts), and a note-off ends the key's sounding note (FluidSynth releases every voice of
  the key). So two note-ons of one pitch at one tick (music21 writes a unison double stop so, with one note-off)
  sound one note, and no note hangs on until its pitch recurs. Extra note-offs are ignored. Ties at one tick: a
  note-off at the tick its note began ends it with zero length (dropped), unless that note-on ended an earlier note
  at this tick, whose note-off it then is (on, off at one tick is a repeated note, as off, on is). A note-off with
  no sounding note is remembered for its tick: a note-on that follows at the same tick is flagged, and unless a
  note-off ends it, it is a zero-length note (music21 writes a zero-length chord tone off-then-on).
- Pitch bend: value / 8192 * range semitones, the range set per channel by RPN 0 (CC101=0, CC100=0, then CC6
  semitones and CC38 cents), default 2; selecting an NRPN (CC98/99) stops data entry from reaching the RPN.
- CC and pitch bend at an item start: the value in force at the item start (the last event before it) is kept,
  at time 0.
- Program: the channel's first program change names the instrument.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import Note, Part, Performance

DRUM_CHANNEL = 9
DEFAULT_BEND_RANGE = 2.0  # semitones
MAX_LOOPS = 10_000
MAX_NOTES = 200_000  # per item or file: beyond this a render would not fit in memory
MAX_SECONDS = 3 * 3600.0  # longest performance (an item or a file) a render may ask for


# --- events in ticks ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MidiNote:
    start_ppq: float
    end_ppq: float
    channel: int
    pitch: int
    velocity: int
    muted: bool = False


@dataclass(frozen=True)
class MidiCC:
    """A channel event that is not a note: `status` is 0xB0 CC, 0xC0 program, 0xE0 pitch bend..."""

    ppq: float
    status: int
    channel: int
    msg2: int
    msg3: int
    muted: bool = False


@dataclass
class TakeMidi:
    """A MIDI take's events in ticks from the take start; `source_length_ppq` = one pass of the source."""

    notes: list[MidiNote] = field(default_factory=list)
    ccs: list[MidiCC] = field(default_factory=list)
    source_length_ppq: float = 0.0


# --- note pairing ------------------------------------------------------------------------------------------------
@dataclass
class _OpenNote:
    start: int
    velocity: int
    after_orphan_off: bool  # a note-off without a sounding note came just before it at the same tick
    muted: bool = False
    ended_one: bool = False  # its note-on ended an earlier note of the key at the same tick


class NotePairer:
    """Note-on/note-off pairing for one track, one sounding note per key (see the module rules)."""

    def __init__(self) -> None:
        self.open: dict[tuple[int, int], _OpenNote] = {}
        self.orphan_off_tick: dict[tuple[int, int], int] = {}
        self.notes: list[MidiNote] = []
        self.n_zero_length = 0

    def note_on(self, tick: int, channel: int, pitch: int, velocity: int, muted: bool = False) -> None:
        key = (channel, pitch)
        after_orphan = self.orphan_off_tick.pop(key, None) == tick
        sounding = self.open.pop(key, None)
        if sounding is not None:
            self._end(channel, pitch, sounding, tick)
        ended_one = sounding is not None and sounding.start < tick
        self.open[key] = _OpenNote(tick, velocity, after_orphan, muted, ended_one)
        if len(self.notes) + len(self.open) > MAX_NOTES:
            raise ReaDDSPError(f"more than {MAX_NOTES} notes; split the file or item")

    def note_off(self, tick: int, channel: int, pitch: int) -> None:
        key = (channel, pitch)
        note = self.open.get(key)
        if note is None:
            self.orphan_off_tick[key] = tick
            return
        if note.start == tick and note.ended_one:  # the note-off of the note this one ended at this tick
            note.ended_one = False
            return
        del self.open[key]
        self._close(channel, pitch, note, tick)

    def close_all(self, track_end: int, file_end: int) -> None:
        """Close notes still open at the end of their track (or of the file if the track ends at their onset)."""
        for (channel, pitch), note in self.open.items():
            self._end(channel, pitch, note, track_end if track_end > note.start else file_end)
        self.open.clear()

    def _end(self, channel: int, pitch: int, note: _OpenNote, tick: int) -> None:
        """End a note without a note-off of its own (a later note-on of its key, or the track end)."""
        if note.after_orphan_off:
            self.n_zero_length += 1
            return
        self._close(channel, pitch, note, tick)

    def _close(self, channel: int, pitch: int, note: _OpenNote, tick: int) -> None:
        if tick <= note.start:
            self.n_zero_length += 1
            return
        self.notes.append(MidiNote(note.start, tick, channel, pitch, note.velocity, note.muted))


# --- channel state -----------------------------------------------------------------------------------------------
class ChannelState:
    """Per-channel state that spans tracks: program changes and the RPN pitch-bend range."""

    def __init__(self) -> None:
        self.programs: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # ch -> (tick, track, program)
        self.rpn: dict[int, tuple[int, int] | None] = {}
        self.bend_semitones: dict[int, int] = defaultdict(lambda: 2)
        self.bend_cents: dict[int, int] = defaultdict(int)

    def control(self, channel: int, controller: int, value: int) -> None:
        msb, lsb = self.rpn.get(channel) or (127, 127)
        if controller == 101:
            self.rpn[channel] = (value, lsb)
        elif controller == 100:
            self.rpn[channel] = (msb, value)
        elif controller in (98, 99):  # an NRPN is selected: data entry no longer goes to the RPN
            self.rpn[channel] = None
        elif controller == 6 and self.rpn.get(channel) == (0, 0):
            self.bend_semitones[channel] = value
        elif controller == 38 and self.rpn.get(channel) == (0, 0):
            self.bend_cents[channel] = value

    def bend_range(self, channel: int) -> float:
        return self.bend_semitones[channel] + self.bend_cents[channel] / 100.0

    def bend(self, channel: int, value: int) -> float:
        """A pitch-bend value (-8192..8191) in semitones, at the channel's current range."""
        return value / 8192.0 * self.bend_range(channel)

    def program_at(self, channel: int, track: int, tick: float) -> int:
        changes = self.programs.get(channel, [])
        same_track = [p for t, tr, p in changes if tr == track and t <= tick]
        any_track = [p for t, _, p in changes if t <= tick]
        later_same_track = [p for _, tr, p in changes if tr == track]
        for options, pick in ((same_track, -1), (any_track, -1), (later_same_track, 0)):
            if options:
                return options[pick]
        return 0


# --- a take's events -> Performance ------------------------------------------------------------------------------
def _loop_passes(midi: TakeMidi, to_seconds: Callable[[float], float], item_length: float, loop: bool) -> int:
    if not loop or midi.source_length_ppq <= 0:
        return 1
    passes = 1
    while passes < MAX_LOOPS and to_seconds(passes * midi.source_length_ppq) < item_length:
        passes += 1
    return passes


def take_to_performance(
    midi: TakeMidi,
    to_seconds: Callable[[float], float],
    item_length: float,
    loop: bool,
    name: str = "",
) -> Performance:
    """Notes and lanes in seconds from the item start, one Part per MIDI channel (see the module rules).

    `to_seconds` maps a tick from the take start to seconds from the item start (tempo map, source offset, play
    rate). Looped items repeat the source every `source_length_ppq`. Muted events, and notes starting outside
    [0, item_length), are left out; notes are cut at the item end.
    """
    passes = _loop_passes(midi, to_seconds, item_length, loop)
    parts: dict[int, Part] = {}

    def part_for(channel: int) -> Part:
        if channel not in parts:
            label = f"{name} ch{channel + 1}" if name else f"ch{channel + 1}"
            parts[channel] = Part(name=label, channel=channel, is_drum=channel == DRUM_CHANNEL)
        return parts[channel]

    eps = 1e-9
    n_notes = 0
    state = ChannelState()
    programs: dict[int, int] = {}
    in_force: dict[tuple[int, int], float] = {}  # (channel, controller or -1 for bend) -> value
    ccs = sorted(midi.ccs, key=lambda c: c.ppq)
    for k in range(passes):
        shift = k * midi.source_length_ppq
        for note in midi.notes:
            if note.muted or (loop and k > 0 and note.start_ppq >= midi.source_length_ppq):
                continue
            onset = to_seconds(note.start_ppq + shift)
            offset = min(to_seconds(note.end_ppq + shift), item_length)
            if onset < -eps or onset >= item_length - eps or offset <= onset:
                continue
            part_for(note.channel).notes.append(Note(note.pitch, max(0.0, onset), offset, note.velocity))
            n_notes += 1
            if n_notes > MAX_NOTES:
                raise ReaDDSPError(f"more than {MAX_NOTES} notes; split the item")
        for cc in ccs:
            if cc.muted:
                continue
            if cc.status == 0xC0:
                if k == 0 and cc.channel not in programs:  # the first program change names the instrument
                    programs[cc.channel] = cc.msg2
                    part_for(cc.channel).program = cc.msg2
                continue
            if cc.status not in (0xB0, 0xE0):
                continue
            if cc.status == 0xB0:
                state.control(cc.channel, cc.msg2, cc.msg3)
                key, value = (cc.channel, cc.msg2), float(cc.msg3)
            else:
                key, value = (cc.channel, -1), state.bend(cc.channel, ((cc.msg3 << 7) | cc.msg2) - 8192)
            t = to_seconds(cc.ppq + shift)
            if t < -eps:
                in_force[key] = value  # the last value before the item start is the one in force there
                continue
            if t >= item_length:
                continue
            if key in in_force:
                _add_lane_event(part_for(cc.channel), key[1], 0.0, in_force.pop(key))
            _add_lane_event(part_for(cc.channel), key[1], max(0.0, t), value)
    for (channel, controller), value in in_force.items():
        _add_lane_event(part_for(channel), controller, 0.0, value)
    out = [p.sorted() for _, p in sorted(parts.items()) if p.notes]
    for part in out:
        for lane in part.cc.values():
            lane.sort(key=lambda e: e[0])
        part.pitch_bend.sort(key=lambda e: e[0])
    return Performance(parts=out)


def _add_lane_event(part: Part, controller: int, t: float, value: float) -> None:
    if controller < 0:
        part.pitch_bend.append((t, value))
    else:
        part.cc.setdefault(controller, []).append((t, int(value)))
