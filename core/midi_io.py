"""MIDI files <-> `Performance` (mido): notes, CC lanes and pitch bend in seconds via the tempo map.

Reading rules (`read_midi`):
- Times: ticks become seconds through the tempo map built from `set_tempo` events of *all* tracks (types 0
  and 1; in a type 2 file each track uses its own tempo events). Missing tempo = 120 bpm.
- Parts: one `Part` per (track, channel) that has at least one note, in track then channel order. The name
  is the track's name (else "Track N"), with " (ch C)" added when the track has notes on several channels;
  the program is the channel's program at the part's first note (a program change in the same track is
  preferred; default 0); channel 10 (index 9) gives `is_drum=True`.
- Note pairing (per track), pitch bend (RPN range) and programs follow `core/midi_rules.py`, the rule set the
  REAPER paths share; note-on with velocity 0 is a note-off. Notes still open at the end of their track close
  there (or at the file's end if the track ends at their onset). A `set_tempo` of 0 is an error.
- Zero-length notes (note-off at the note-on's tick) are dropped: they cannot sound and they break
  monophony.
- CC lanes hold every controller of the part's (track, channel), plus those on the same channel in tracks
  that have no notes on it (controller-only tracks), as {controller: [(seconds, value)]}.
- Pitch bend becomes semitones (`midi_rules.ChannelState.bend`). Aftertouch and sysex are ignored.

Writing rules (`write_midi`): a type 1 file, track 0 holds the tempo map, then one track per part. Drum
parts go to channel 10; other parts keep their channel unless a part with another program already uses it,
then take a free one. Notes with offset <= onset are skipped; others last at least one tick. A note that
overlaps the next note of its pitch ends where that one starts (one note sounds per key, `core/midi_rules.py`).
CC lanes are written except the RPN/NRPN controllers (6, 38, 96-101); when the bend exceeds +-2 semitones, a
pitch-bend-range RPN is written first.
"""

from __future__ import annotations

import io
import logging
import math
from collections import defaultdict
from pathlib import Path

import mido

from readdsp.core.atomic import atomic_path
from readdsp.core.errors import ReaDDSPError
from readdsp.core.midi_rules import DEFAULT_BEND_RANGE, DRUM_CHANNEL, MAX_NOTES, MAX_SECONDS, ChannelState, NotePairer
from readdsp.core.midi_scan import MAX_EVENTS, MAX_MIDI_BYTES, count_midi
from readdsp.core.performance import Note, Part, Performance
from readdsp.core.tempo_map import TempoMap

log = logging.getLogger(__name__)

_RPN_CONTROLLERS = frozenset({6, 38, 96, 97, 98, 99, 100, 101})


# --- reading ---


def load_midi_file(path: Path) -> mido.MidiFile:
    """The one checked MIDI loader: one-line errors for a missing, empty, damaged or SMPTE file, and a file too
    large, with too many notes or too many events is refused from its bytes before mido parses it (`midi_scan`)."""
    if not path.exists():
        raise ReaDDSPError("file not found", path)
    if path.is_dir():
        raise ReaDDSPError("is a directory, not a MIDI file", path)
    try:
        size = path.stat().st_size
        if size > MAX_MIDI_BYTES:
            raise ReaDDSPError(f"larger than {MAX_MIDI_BYTES >> 20} MB; split the file", path)
        data = path.read_bytes()
    except OSError as err:
        raise ReaDDSPError(f"cannot read file ({err.strerror})", path) from err
    if size == 0:
        raise ReaDDSPError("empty file (0 bytes), not a MIDI file", path)
    counts = count_midi(data, MAX_NOTES)
    if counts.notes > MAX_NOTES:
        raise ReaDDSPError(f"more than {MAX_NOTES} notes; split the file or item", path)
    if counts.events > MAX_EVENTS:
        raise ReaDDSPError(f"more than {MAX_EVENTS} MIDI events; split the file", path)
    try:
        midi = mido.MidiFile(file=io.BytesIO(data), clip=True)
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


def read_midi(path: str | Path) -> Performance:
    """Read a standard MIDI file (type 0, 1 or 2) into a Performance; see the module docstring for the rules.

    Raises ReaDDSPError for a missing, empty or unreadable file. A file without notes gives a Performance
    without parts; use `require_notes` where notes are needed.
    """
    path = Path(path)
    midi = load_midi_file(path)
    try:
        return _read(midi, path)
    except ReaDDSPError as err:
        raise ReaDDSPError(err.problem, path) from None


def _read(midi: mido.MidiFile, path: Path) -> Performance:
    tracks = [_absolute(track) for track in midi.tracks]
    tpb = midi.ticks_per_beat
    if midi.type == 2:
        tempo_maps = [TempoMap.from_midi(_tempo_changes([track]), tpb) for track in tracks]
    else:
        tempo_maps = [TempoMap.from_midi(_tempo_changes(tracks), tpb)] * len(tracks)
    track_ends = [track[-1][0] if track else 0 for track in tracks]
    file_end = max(track_ends, default=0)

    pairers = [NotePairer() for _ in tracks]
    state = ChannelState()
    names: dict[int, str] = {}
    signatures: list[tuple[float, int, int]] = []
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
            bend_events[(ti, msg.channel)].append((tick, state.bend(msg.channel, msg.pitch)))
        elif kind == "program_change":
            state.programs[msg.channel].append((tick, ti, msg.program))
        elif kind == "track_name" and ti not in names:
            names[ti] = msg.name.strip()
        elif kind == "time_signature":
            signatures.append((tempo_maps[ti].to_seconds(tick), msg.numerator, msg.denominator))

    for ti, pairer in enumerate(pairers):
        pairer.close_all(track_ends[ti], file_end)
    n_zero = sum(p.n_zero_length for p in pairers)
    if n_zero:
        log.debug("%s: dropped %d zero-length note(s)", path, n_zero)

    by_channel: list[dict[int, list[tuple[float, float, int, int]]]] = [defaultdict(list) for _ in tracks]
    for ti, pairer in enumerate(pairers):
        for note in pairer.notes:
            by_channel[ti][note.channel].append((note.start_ppq, note.end_ppq, note.pitch, note.velocity))
    with_notes = sorted((ti, ch) for ti, channels in enumerate(by_channel) for ch in channels)
    channels_per_track: defaultdict[int, int] = defaultdict(int)
    for ti, _ in with_notes:
        channels_per_track[ti] += 1
    parts = []
    for ti, ch in with_notes:
        tempo = tempo_maps[ti]
        raw = sorted(by_channel[ti][ch], key=lambda n: (n[0], n[2], n[1]))
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
    performance = Performance(parts=parts, ticks_per_beat=tpb, tempo_map=tempo_map, source=str(path))
    if signatures:
        performance.time_signatures = _time_signatures(signatures)
    if performance.duration > MAX_SECONDS:
        raise ReaDDSPError(f"lasts {performance.duration:.0f} s, over the {MAX_SECONDS:.0f} s a render may take")
    return performance


def _time_signatures(signatures: list[tuple[float, int, int]]) -> list[tuple[float, int, int]]:
    """Time signature changes in time order, the last one at a given time winning, starting at 0 s (4/4 before)."""
    by_time = {round(t, 9): (t, num, den) for t, num, den in sorted(signatures, key=lambda s: s[0])}
    changes = list(by_time.values())
    return changes if changes[0][0] <= 1e-9 else [(0.0, 4, 4), *changes]


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
    by_key = sorted((n for n in part.notes if n.offset > n.onset), key=lambda n: (n.pitch, n.onset))
    for note, following in zip(by_key, [*by_key[1:], None][: len(by_key)], strict=True):
        on = tempo.to_ticks(note.onset)
        off = max(tempo.to_ticks(note.offset), on + 1)
        if following is not None and following.pitch == note.pitch:  # one note sounds per key (midi_rules)
            next_on = tempo.to_ticks(following.onset)
            if next_on <= on:
                continue
            off = min(off, next_on)
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
    meta = [(int(point.position), mido.MetaMessage("set_tempo", tempo=int(point.us_per_qn))) for point in tempo.points]
    meta += [
        (tempo.to_ticks(seconds), mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator))
        for seconds, numerator, denominator in performance.time_signatures
    ]
    previous = 0
    for tick, message in sorted(meta, key=lambda event: event[0]):
        conductor.append(message.copy(time=tick - previous))
        previous = tick
    midi.tracks.append(conductor)
    for part, channel in zip(performance.parts, _assign_channels(performance.parts), strict=True):
        midi.tracks.append(_part_track(part, channel, tempo, path))
    with atomic_path(path, ".mid") as tmp:
        midi.save(tmp)
    return path
