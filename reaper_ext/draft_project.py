"""`readdsp transcribe` for REAPER: MIDI items drafted from a track's audio items, added to a copy of the project.

Rules:
- Every unmuted audio item on the named track (read as `dataset from-project` reads them: `WAVE`, `MP3`, `FLAC`,
  `VORBIS`, `SECTION`, SOFFS, PLAYRATE, media inside or beside the project) is transcribed from the audio it plays.
  Skipped items are listed with their reason; a track with no audio item to transcribe is an error.
- The draft is one new track, `NAME (draft MIDI)` (`NAME (draft MIDI 2)`... when taken), inserted right after the
  audio track. It holds one MIDI item per audio item, at the same position and length (an empty item where no note
  was found), as an inline `<SOURCE MIDI` with `HASDATA 1 960 QN` and `E` event lines (`rpp_build`). Note ticks
  follow the project tempo map, ramps included, through `TakeTiming` (the path the project readers use).
- The copy is the input's text plus that track chunk; when it is written to another folder, relative media `FILE`
  paths are rewritten to resolve from there (`rewrite_media_paths`, as `render-project` does). Every other byte is
  the input's. The input is never written; the output is written atomically, after every item is transcribed.

A plain audio file becomes a new minimal project (`new_project_text`): one track with the audio item at 0 s and the
draft MIDI track, at a constant tempo.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from readdsp.core.annotated_project import AnnotatedProject, AudioSpan
from readdsp.core.atomic import write_bytes
from readdsp.core.errors import ReaDDSPError
from readdsp.core.output_path import check_output_file
from readdsp.core.performance import Note
from readdsp.core.tempo_map import TempoMap
from readdsp.reaper_ext.project_audio import find_track, read_audio_track
from readdsp.reaper_ext.rpp_build import TICKS_PER_QN, ItemSpec, MidiEvent, project_text, track_lines
from readdsp.reaper_ext.rpp_project import load_project, project_tempo_map, track_name, tracks
from readdsp.reaper_ext.rpp_text import insert_after, rewrite_media_paths, split_lines, top_tracks
from readdsp.reaper_ext.take_timing import TakeTiming

DRAFT_LABEL = "draft MIDI"

#: Transcribes the audio an item plays: notes in seconds from the item's start.
Transcribe = Callable[[AudioSpan], list[Note]]


@dataclass
class DraftPlan:
    """A checked transcribe run: input text, output path, the audio items, the tempo map and the new track's name."""

    source: Path
    output: Path
    text: str
    track_index: int
    draft_name: str
    tempo: TempoMap
    audio: AnnotatedProject


def draft_track_name(track: str, taken: set[str]) -> str:
    """`TRACK (draft MIDI)`, numbered when a track of that name exists."""
    name, number = f"{track} ({DRAFT_LABEL})", 2
    while name in taken:
        name, number = f"{track} ({DRAFT_LABEL} {number})", number + 1
    return name


def plan_draft(input_path: str | Path, output_path: str | Path, track: str) -> DraftPlan:
    """Every check that needs no transcription: the output path, the project, the track and its audio items."""
    src, out = Path(input_path).resolve(), Path(output_path).resolve()
    if src == out:
        raise ReaDDSPError("the output must be a different file from the input project", out)
    check_output_file(out, (".rpp",))
    root, text = load_project(src)
    element = find_track(root, track, src)
    audio = AnnotatedProject(src, [], [])
    try:
        read_audio_track(element, track, src.parent, audio)
        tempo = project_tempo_map(root)
    except ReaDDSPError as err:
        raise ReaDDSPError(err.problem, err.path or src) from None
    if not audio.audio:
        reasons = "; ".join(audio.messages) or "the track has no items"
        raise ReaDDSPError(f"no audio item to transcribe on track {track!r} ({reasons})", src)
    index = next(i for i, t in enumerate(tracks(root)) if t is element)
    draft_name = draft_track_name(track, {track_name(t) for t in tracks(root)})
    return DraftPlan(src, out, text, index, draft_name, tempo, audio)


def midi_item(span: AudioSpan, notes: list[Note], tempo: TempoMap, name: str = "") -> ItemSpec:
    """A MIDI item at the audio item's position and length; `notes` (seconds from the item start) become ticks at
    960 per quarter note on the project tempo map, cut at the item's end (a note-off never passes the next onset of
    its key, so each note pairs with its own)."""
    timing = TakeTiming(tempo, span.position, 0.0, 1.0, TICKS_PER_QN)

    def tick(seconds: float) -> int:
        return max(int(round(timing.project_seconds_to_ppq(span.position + seconds))), 0)

    end = max(tick(span.length), 1)
    events: list[MidiEvent] = []
    next_onset: dict[int, int] = {}  # per key, the onset tick of the next note (walking backwards)
    for note in sorted(notes, key=lambda n: (n.onset, n.pitch), reverse=True):
        pitch, on = int(note.pitch), tick(note.onset)
        off = min(tick(note.offset), end, next_onset.get(pitch, end))
        if on < end:
            next_onset[pitch] = on
        if off <= on:
            continue
        velocity = min(max(int(note.velocity), 1), 127)
        events += [MidiEvent(on, 0x90, pitch, velocity), MidiEvent(off, 0x80, pitch, 0)]
    name = name or f"{span.label} ({DRAFT_LABEL})"
    return ItemSpec(span.position, span.length, name, events=events, length_ticks=end)


def draft_text(plan: DraftPlan, drafts: list[ItemSpec]) -> str:
    """The input's text with the draft track inserted after the audio track (and media paths moved to the output)."""
    lines = rewrite_media_paths(split_lines(plan.text), plan.source.parent, plan.output.parent)
    span = top_tracks(lines)[plan.track_index]
    return "".join(insert_after(lines, span, track_lines(plan.draft_name, drafts)))


def draft_project(
    input_path: str | Path,
    output_path: str | Path,
    track: str,
    transcribe: Transcribe,
    plan: DraftPlan | None = None,
) -> dict:
    """Transcribe the track's audio items and write OUT = IN plus the draft MIDI track; returns a summary."""
    plan = plan or plan_draft(input_path, output_path, track)
    drafts, messages, total = [], list(plan.audio.messages), 0
    for span in plan.audio.audio:
        notes = transcribe(span)
        drafts.append(midi_item(span, notes, plan.tempo))
        count = len(drafts[-1].events) // 2
        total += count
        messages.append(f"{span.label}: {count} note(s) drafted")
    write_bytes(plan.output, draft_text(plan, drafts).encode("utf-8", errors="surrogateescape"))
    far = [s.label for s in plan.audio.audio if not s.path.is_relative_to(plan.output.parent.parent)]
    if far:
        messages.append(
            f"{len(far)} audio item(s) play media outside the draft's folder and its parent: REAPER finds them, "
            "`dataset from-project` on the draft will not (write the draft beside the project)"
        )
    return {
        "output": str(plan.output),
        "track": plan.draft_name,
        "items": len(drafts),
        "notes": total,
        "messages": messages,
    }


def media_reference(media: Path, project_dir: Path) -> str:
    """A media path as the project should name it: relative to the project folder (absolute on another drive)."""
    try:
        return os.path.relpath(media.resolve(), project_dir.resolve())
    except ValueError:
        return str(media.resolve())


def new_project_text(
    span: AudioSpan, notes: list[Note], output: Path, track: str, sample_rate: int, bpm: float = 120.0
) -> str:
    """A new project around one audio file: track `track` with the audio item at 0 s, and the draft MIDI track."""
    tempo = TempoMap.from_seconds([(0.0, bpm, False)], default_bpm=bpm)
    audio_item = ItemSpec(0.0, span.length, span.path.name, file=media_reference(span.path, output.parent))
    draft = midi_item(span, notes, tempo, f"{span.path.stem} ({DRAFT_LABEL})")
    return project_text({track: [audio_item], draft_track_name(track, {track}): [draft]}, bpm, sample_rate)
