"""MIDI files <-> `Performance` (mido): notes, CC lanes and pitch bend in seconds via the tempo map.

Reading rules (`read_midi`):
- Times: ticks become seconds through the tempo map built from `set_tempo` events of *all* tracks (types 0
  and 1; in a type 2 file each track uses its own tempo events). Missing tempo = 120 bpm.
- Parts: one `Part` per (track, channel) that has at least one note, in track then channel order. The name
  is the track's name (else "Track N"), with " (ch C)" added when the track has notes on several channels;
  the program is the channel's program at the part's first note (a program change in the same track is
  preferred; default 0); channel 10 (index 9) gives `is_drum=True`.
- Note pairing, per (track, channel, pitch): note-on with velocity 0 is a note-off. A note-off closes the
  oldest open note that began at an earlier tick (FIFO), preferring notes not flagged below. If only notes
  begun at this tick are open, it closes the oldest of them (a zero-length note). A note-off with no open
  note is remembered for its tick: a note-on that follows at the same tick is flagged, and if no later
  note-off closes it, it is a zero-length note (not a note stuck until the end, as naive pairing gives
  for some music21 exports). Notes still open at the end of their track close there (or at the file's
  end if the track ends at their onset).
- Zero-length notes (note-off at the note-on's tick) are dropped: they cannot sound and they break
  monophony.
- CC lanes hold every controller of the part's (track, channel), plus those on the same channel in tracks
  that have no notes on it (controller-only tracks), as {controller: [(seconds, value)]}.
- Pitch bend becomes semitones: value / 8192 * range, where range is set per channel by RPN 0 (CC101=0,
  CC100=0, then CC6 semitones and CC38 cents) and defaults to 2. Aftertouch and sysex are ignored.

Writing rules (`write_midi`): a type 1 file, track 0 holds the tempo map, then one track per part. Drum
parts go to channel 10; other parts keep their channel unless a part with another program already uses it,
then take a free one. Notes with offset <= onset are skipped; others last at least one tick. Same-pitch
notes nested inside one another cannot be told apart in MIDI and read back FIFO-paired. CC lanes are written
except the RPN/NRPN controllers (6, 38, 96-101); when the bend exceeds +-2 semitones, a pitch-bend-range RPN
is written first.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

import mido

from readdsp.core.atomic import atomic_path
from readdsp.core.errors import ReaDDSPError
from readdsp.core.performance import Note, Part, Performance

log = logging.getLogger(__name__)

DRUM_CHANNEL = 9
DEFAULT_TEMPO = 500_000  # microseconds per beat (120 bpm)
DEFAULT_BEND_RANGE = 2.0  # semitones
_RPN_CONTROLLERS = frozenset({6, 38, 96, 97, 98, 99, 100, 101})


class TempoMap:
    """Piecewise-constant tempo: converts ticks <-> seconds."""

    def __init__(self, changes: list[tuple[int, int]], ticks_per_beat: int):
        """`changes`: (tick, microseconds per beat), in order; later entries at the same tick win."""
        self.ticks_per_beat = ticks_per_beat
        merged: dict[int, int] = {0: DEFAULT_TEMPO}
        for tick, tempo in changes:
            merged[int(tick)] = int(tempo)
        self.ticks = sorted(merged)
        self.tempos = [merged[t] for t in self.ticks]
        self.seconds = [0.0]
        for i in range(1, len(self.ticks)):
            span = self.ticks[i] - self.ticks[i - 1]
            self.seconds.append(self.seconds[-1] + span * self.tempos[i - 1] / 1e6 / ticks_per_beat)

    @classmethod
    def from_bpm(cls, tempo_map: list[tuple[float, float]], ticks_per_beat: int) -> TempoMap:
        """Build from a Performance's [(seconds, bpm)] list, placing each change on the nearest tick."""
        changes: list[tuple[int, int]] = []
        tick_pos, sec_pos, tempo = 0, 0.0, DEFAULT_TEMPO
        for seconds, bpm in sorted(tempo_map):
            new_tempo = min(max(round(60e6 / max(float(bpm), 4.0)), 1), 0xFFFFFF)
            seconds = max(float(seconds), 0.0)
            tick_pos += round((seconds - sec_pos) * 1e6 / tempo * ticks_per_beat)
            sec_pos = seconds
            changes.append((tick_pos, new_tempo))
            tempo = new_tempo
        return cls(changes, ticks_per_beat)

    def to_seconds(self, tick: int) -> float:
        i = bisect.bisect_right(self.ticks, tick) - 1
        return self.seconds[i] + (tick - self.ticks[i]) * self.tempos[i] / 1e6 / self.ticks_per_beat

    def to_ticks(self, seconds: float) -> int:
        seconds = max(float(seconds), 0.0)
        i = bisect.bisect_right(self.seconds, seconds) - 1
        return self.ticks[i] + round((seconds - self.seconds[i]) * 1e6 / self.tempos[i] * self.ticks_per_beat)

    def as_bpm(self) -> list[tuple[float, float]]:
        """[(seconds, bpm)], with repeated tempos merged."""
        out: list[tuple[float, float]] = []
        previous = None
        for seconds, tempo in zip(self.seconds, self.tempos, strict=True):
            if tempo != previous:
                out.append((seconds, 60e6 / tempo))
            previous = tempo
        return out


# --- reading ---


@dataclass
class _OpenNote:
    start: int
    velocity: int
    after_orphan_off: bool  # a note-off without an open note came just before it at the same tick


class _NotePairer:
    """FIFO note-on/note-off pairing for one track, robust to note-offs written before their note-on."""

    def __init__(self) -> None:
        self.open: dict[tuple[int, int], deque[_OpenNote]] = defaultdict(deque)
        self.orphan_off_tick: dict[tuple[int, int], int] = {}
        # channel -> [(on tick, off tick, pitch, velocity)]
        self.notes: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
        self.n_zero_length = 0

    def note_on(self, tick: int, channel: int, pitch: int, velocity: int) -> None:
        key = (channel, pitch)
        after_orphan = self.orphan_off_tick.pop(key, None) == tick
        self.open[key].append(_OpenNote(tick, velocity, after_orphan))

    def note_off(self, tick: int, channel: int, pitch: int) -> None:
        key = (channel, pitch)
        queue = self.open.get(key)
        if not queue:
            self.orphan_off_tick[key] = tick
            return
        earlier = [n for n in queue if n.start < tick]
        preferred = [n for n in earlier if not n.after_orphan_off] or earlier or list(queue)
        note = preferred[0]
        queue.remove(note)
        self._close(channel, pitch, note, tick)

    def close_all(self, track_end: int, file_end: int) -> None:
        for (channel, pitch), queue in self.open.items():
            for note in queue:
                if note.after_orphan_off:
                    self.n_zero_length += 1
                    continue
                self._close(channel, pitch, note, track_end if track_end > note.start else file_end)
        self.open.clear()

    def _close(self, channel: int, pitch: int, note: _OpenNote, tick: int) -> None:
        if tick <= note.start:
            self.n_zero_length += 1
            return
        self.notes[channel].append((note.start, tick, pitch, note.velocity))


def _load(path: Path) -> mido.MidiFile:
    if not path.exists():
        raise ReaDDSPError("file not found", path)
    if path.is_dir():
        raise ReaDDSPError("is a directory, not a MIDI file", path)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise ReaDDSPError(f"cannot read file ({err.strerror})", path) from err
    if size == 0:
        raise ReaDDSPError("empty file (0 bytes), not a MIDI file", path)
    try:
        midi = mido.MidiFile(path, clip=True)
    except PermissionError as err:
        raise ReaDDSPError(f"cannot read file ({err.strerror})", path) from err
    except Exception as err:  # mido raises OSError, EOFError, ValueError, ... for damaged files
        detail = str(err) or type(err).__name__
        raise ReaDDSPError(f"not a valid MIDI file ({detail})", path) from err
    if midi.ticks_per_beat <= 0 or midi.ticks_per_beat >= 0x8000:
        raise ReaDDSPError("SMPTE time division is not supported (need ticks per beat)", path)
    return midi


def _absolute(track: mido.MidiTrack) -> list[tuple[int, mido.Message]]:
    tick, out = 0, []
    for msg in track:
        tick += msg.time
        out.append((tick, msg))
    return out


def _tempo_changes(tracks: list[list[tuple[int, mido.Message]]]) -> list[tuple[int, int]]:
    """(tick, tempo) of every set_tempo event, ordered by tick, then track, then position in the track."""
    events = [
        (tick, ti, i, msg.tempo)
        for ti, track in enumerate(tracks)
        for i, (tick, msg) in enumerate(track)
        if msg.type == "set_tempo"
    ]
    return [(tick, tempo) for tick, _, _, tempo in sorted(events)]


class _ChannelState:
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

    def program_at(self, channel: int, track: int, tick: int) -> int:
        changes = self.programs.get(channel, [])
        same_track = [p for t, tr, p in changes if tr == track and t <= tick]
        any_track = [p for t, _, p in changes if t <= tick]
        later_same_track = [p for _, tr, p in changes if tr == track]
        for options, pick in ((same_track, -1), (any_track, -1), (later_same_track, 0)):
            if options:
                return options[pick]
        return 0


def read_midi(path: str | Path) -> Performance:
    """Read a standard MIDI file (type 0, 1 or 2) into a Performance; see the module docstring for the rules.

    Raises ReaDDSPError for a missing, empty or unreadable file. A file without notes gives a Performance
    without parts; use `require_notes` where notes are needed.
    """
    path = Path(path)
    midi = _load(path)
    tracks = [_absolute(track) for track in midi.tracks]
    tpb = midi.ticks_per_beat
    if midi.type == 2:
        tempo_maps = [TempoMap(_tempo_changes([track]), tpb) for track in tracks]
    else:
        tempo_maps = [TempoMap(_tempo_changes(tracks), tpb)] * len(tracks)
    track_ends = [track[-1][0] if track else 0 for track in tracks]
    file_end = max(track_ends, default=0)

    pairers = [_NotePairer() for _ in tracks]
    state = _ChannelState()
    names: dict[int, str] = {}
    cc_events: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
    bend_events: dict[tuple[int, int], list[tuple[int, float]]] = defaultdict(list)
    merged = sorted(
        ((tick, ti, i, msg) for ti, track in enumerate(tracks) for i, (tick, msg) in enumerate(track)),
        key=lambda e: e[:3],
    )
    for tick, ti, _, msg in merged:
        kind = msg.type
        if kind == "note_on" and msg.velocity > 0:
            pairers[ti].note_on(tick, msg.channel, msg.note, msg.velocity)
        elif kind in ("note_on", "note_off"):
            pairers[ti].note_off(tick, msg.channel, msg.note)
        elif kind == "control_change":
            cc_events[(ti, msg.channel)].append((tick, msg.control, msg.value))
            state.control(msg.channel, msg.control, msg.value)
        elif kind == "pitchwheel":
            bend_events[(ti, msg.channel)].append((tick, msg.pitch / 8192.0 * state.bend_range(msg.channel)))
        elif kind == "program_change":
            state.programs[msg.channel].append((tick, ti, msg.program))
        elif kind == "track_name" and ti not in names:
            names[ti] = msg.name.strip()

    for ti, pairer in enumerate(pairers):
        pairer.close_all(track_ends[ti], file_end)
    n_zero = sum(p.n_zero_length for p in pairers)
    if n_zero:
        log.debug("%s: dropped %d zero-length note(s)", path, n_zero)

    with_notes = sorted((ti, ch) for ti, p in enumerate(pairers) for ch, notes in p.notes.items() if notes)
    channels_per_track = defaultdict(int)
    for ti, _ in with_notes:
        channels_per_track[ti] += 1
    parts = []
    for ti, ch in with_notes:
        tempo = tempo_maps[ti]
        raw = sorted(pairers[ti].notes[ch], key=lambda n: (n[0], n[2], n[1]))
        name = names.get(ti) or f"Track {ti + 1}"
        if channels_per_track[ti] > 1:
            name = f"{name} (ch {ch + 1})"
        sources = [(ti, ch)] + [(tj, ch) for tj in range(len(tracks)) if tj != ti and (tj, ch) not in with_notes]
        cc: dict[int, list[tuple[float, int]]] = defaultdict(list)
        bends: list[tuple[float, float]] = []
        for tj, cj in sources:
            for tick, controller, value in cc_events.get((tj, cj), []):
                cc[controller].append((tempo_maps[tj].to_seconds(tick), value))
            bends.extend((tempo_maps[tj].to_seconds(tick), semis) for tick, semis in bend_events.get((tj, cj), []))
        parts.append(
            Part(
                name=name,
                program=state.program_at(ch, ti, raw[0][0]),
                channel=ch,
                is_drum=ch == DRUM_CHANNEL,
                notes=[Note(p, tempo.to_seconds(on), tempo.to_seconds(off), v) for on, off, p, v in raw],
                cc={c: sorted(lane, key=lambda e: e[0]) for c, lane in sorted(cc.items())},
                pitch_bend=sorted(bends, key=lambda e: e[0]),
            )
        )
    tempo_map = tempo_maps[0].as_bpm() if tempo_maps else [(0.0, 120.0)]
    return Performance(parts=parts, ticks_per_beat=tpb, tempo_map=tempo_map, source=str(path))


def require_notes(performance: Performance, path: str | Path | None = None) -> Performance:
    """Return `performance` unchanged, or raise ReaDDSPError "contains no notes" if it has none."""
    if performance.n_notes == 0:
        raise ReaDDSPError("contains no notes", path if path is not None else performance.source)
    return performance


# --- writing ---

# Order of events sharing a tick: note-offs (so a repeated pitch re-sounds), settings, note-ons.
_NOTE_OFF, _SETTING, _NOTE_ON = 0, 1, 2


def _assign_channels(parts: list[Part]) -> list[int]:
    """A channel per part: drums on 10; others keep theirs unless a part with another program holds it."""
    owner: dict[int, int] = {}  # channel -> program
    out = []
    for part in parts:
        if part.is_drum:
            out.append(DRUM_CHANNEL)
            continue
        wanted = part.channel if 0 <= part.channel < 16 and part.channel != DRUM_CHANNEL else None
        if wanted is None or owner.get(wanted, part.program) != part.program:
            free = [c for c in range(16) if c != DRUM_CHANNEL and c not in owner]
            same = [c for c, prog in owner.items() if prog == part.program]
            if free:
                wanted = free[0]
            elif same:
                wanted = same[0]
            else:
                wanted = part.channel % 16 if part.channel % 16 != DRUM_CHANNEL else 0
                log.warning("more than 15 programs: part %r shares channel %d", part.name, wanted + 1)
        owner.setdefault(wanted, part.program)
        out.append(wanted)
    return out


def _bend_range_for(part: Part) -> int:
    peak = max((abs(s) for _, s in part.pitch_bend), default=0.0)
    return int(min(max(math.ceil(peak - 1e-9), DEFAULT_BEND_RANGE), 127))


def _part_track(part: Part, channel: int, tempo: TempoMap, path: Path) -> mido.MidiTrack:
    events: list[tuple[int, int, mido.Message]] = [
        (0, _SETTING, mido.Message("program_change", channel=channel, program=int(part.program) % 128))
    ]
    bend_range = _bend_range_for(part)
    if bend_range != DEFAULT_BEND_RANGE:
        for controller, value in ((101, 0), (100, 0), (6, bend_range), (38, 0), (101, 127), (100, 127)):
            events.append(
                (
                    0,
                    _SETTING,
                    mido.Message("control_change", channel=channel, control=controller, value=value),
                )
            )
    for controller, lane in sorted(part.cc.items()):
        if controller in _RPN_CONTROLLERS or not 0 <= controller < 128:
            continue
        for seconds, value in lane:
            msg = mido.Message(
                "control_change", channel=channel, control=controller, value=min(max(int(value), 0), 127)
            )
            events.append((tempo.to_ticks(seconds), _SETTING, msg))
    for seconds, semitones in part.pitch_bend:
        pitch = min(max(round(semitones / bend_range * 8192), -8192), 8191)
        events.append((tempo.to_ticks(seconds), _SETTING, mido.Message("pitchwheel", channel=channel, pitch=pitch)))
    for note in part.notes:
        if not 0 <= note.pitch < 128:
            raise ReaDDSPError(f"part {part.name!r} has a note with pitch {note.pitch}, outside 0..127", path)
        if note.offset <= note.onset:
            continue
        on = tempo.to_ticks(note.onset)
        off = max(tempo.to_ticks(note.offset), on + 1)
        velocity = min(max(int(note.velocity), 1), 127)
        events.append((on, _NOTE_ON, mido.Message("note_on", channel=channel, note=note.pitch, velocity=velocity)))
        events.append((off, _NOTE_OFF, mido.Message("note_off", channel=channel, note=note.pitch, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=part.name)])
    previous = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - previous))
        previous = tick
    return track


def write_midi(performance: Performance, path: str | Path) -> Path:
    """Write a Performance as a type 1 MIDI file, atomically; see the module docstring for the rules."""
    path = Path(path)
    tpb = int(performance.ticks_per_beat) if 0 < performance.ticks_per_beat < 0x8000 else 480
    tempo = TempoMap.from_bpm(performance.tempo_map or [(0.0, 120.0)], tpb)
    midi = mido.MidiFile(type=1, ticks_per_beat=tpb)
    conductor = mido.MidiTrack()
    previous = 0
    for tick, us_per_beat in zip(tempo.ticks, tempo.tempos, strict=True):
        conductor.append(mido.MetaMessage("set_tempo", tempo=us_per_beat, time=tick - previous))
        previous = tick
    midi.tracks.append(conductor)
    for part, channel in zip(performance.parts, _assign_channels(performance.parts), strict=True):
        midi.tracks.append(_part_track(part, channel, tempo, path))
    with atomic_path(path, ".mid") as tmp:
        midi.save(tmp)
    return path
