"""Read a project's audio items and annotating MIDI items (offline, from the .RPP) into an `AnnotatedProject`.

Audio sources: `WAVE`, `MP3`, `FLAC`, `VORBIS` and `SECTION` (its `STARTPOS` adds to the item's `SOFFS`; a reversed
section is refused). `FILE` paths, relative (to the project folder) or absolute, must resolve inside the project's
folder or its parent ("beside" it); media elsewhere, missing media, other sources and time-stretched items that
keep their pitch are skipped, each with a message and a count. MIDI items are read by the same code as
`render-project` (`read_take`, `take_to_performance`: tempo ramps, SOFFS, PLAYRATE, pooled and external sources,
muted events, the CC in force at the item start, RPN bend range). Muted items are skipped and counted.
"""

from __future__ import annotations

from pathlib import Path

from rpp import Element

from readdsp.core.annotated_project import AnnotatedProject, AnnotationSpan, AudioSpan
from readdsp.core.control_lanes import ControlLanes
from readdsp.core.errors import ReaDDSPError
from readdsp.core.midi_rules import take_to_performance
from readdsp.core.performance import Note
from readdsp.reaper_ext.item_chunk import ItemChunk
from readdsp.reaper_ext.rpp_project import (
    MAX_ITEM_SECONDS,
    MidiPools,
    is_muted,
    items,
    line_of,
    load_project,
    number,
    read_take,
    track_name,
    tracks,
)

AUDIO_SOURCES = ("WAVE", "MP3", "FLAC", "VORBIS")


def find_track(root: Element, name: str, path: Path) -> Element:
    """The one track named `name`; ReaDDSPError (naming the project) when there is none or more than one."""
    found = [t for t in tracks(root) if track_name(t) == name]
    if not found:
        names = ", ".join(repr(track_name(t)) for t in tracks(root)) or "none"
        raise ReaDDSPError(f"no track named {name!r} (tracks: {names})", path)
    if len(found) > 1:
        raise ReaDDSPError(f"{len(found)} tracks are named {name!r}; rename one", path)
    return found[0]


def media_path(token: str, project_dir: Path) -> Path | None:
    """A FILE token resolved against the project folder; None when it leaves the project's folder and its parent."""
    resolved = (project_dir / token).resolve()
    allowed = project_dir.resolve().parent
    return resolved if resolved.is_relative_to(allowed) else None


def _audio_source(source: Element, label: str) -> tuple[Element, float] | str:
    """The innermost file source and the seconds a SECTION skips, or why the source is unsupported."""
    offset = 0.0
    while source.attrib and source.attrib[0] == "SECTION":
        mode = line_of(source, "MODE")
        if mode and len(mode) > 1 and number(mode[1], f"{label}: SECTION MODE", 0, 1e3) != 0:
            return "a reversed or looped SECTION source"
        start = line_of(source, "STARTPOS")
        offset += number(start[1] if start and len(start) > 1 else None, f"{label}: SECTION STARTPOS", 0, 1e7)
        inner = next((c for c in source.children if isinstance(c, Element) and c.tag == "SOURCE"), None)
        if inner is None:
            return "a SECTION source without an inner source"
        source = inner
    kind = source.attrib[0] if source.attrib else "?"
    if kind not in AUDIO_SOURCES:
        return f"a {kind} source (audio items need WAVE, MP3, FLAC, VORBIS or SECTION)"
    return source, offset


def read_audio_item(element: Element, label: str, project_dir: Path, out: AnnotatedProject) -> None:
    """Add the item's active take as an AudioSpan to `out`, or record why it is skipped."""
    chunk = ItemChunk.parse(element)
    if chunk.active_index < 0 or chunk.takes[chunk.active_index].source is None:
        out.skip("empty item", f"{label}: skipped (no take with a source)")
        return
    take = chunk.takes[chunk.active_index]
    found = _audio_source(take.source, label)
    if isinstance(found, str):
        out.skip("unsupported source", f"{label}: skipped ({found})")
        return
    source, section_offset = found
    file_line = line_of(source, "FILE")
    if not file_line or len(file_line) < 2:
        out.skip("unsupported source", f"{label}: skipped (its source names no FILE)")
        return
    path = media_path(file_line[1], project_dir)
    if path is None:
        out.skip("media outside the project", f"{label}: skipped (media {file_line[1]!r} is outside the project)")
        return
    if not path.is_file():
        out.skip("missing media", f"{label}: skipped (media file {path} is missing)")
        return
    position = number(chunk.header_value("POSITION"), f"{label}: POSITION", 0.0, 1e7)
    length = number(chunk.header_value("LENGTH"), f"{label}: LENGTH", 0.0, MAX_ITEM_SECONDS)
    soffs = number(take.value("SOFFS"), f"{label}: SOFFS", -1e7, 1e7)
    rate_line = take.values("PLAYRATE") or ["1"]
    rate = number(rate_line[0], f"{label}: PLAYRATE", 1e-3, 1e3, default=1.0)
    keeps_pitch = len(rate_line) > 1 and number(rate_line[1], f"{label}: PLAYRATE preserve-pitch", 0, 1) != 0
    if rate != 1.0 and keeps_pitch:
        out.skip("time-stretched", f"{label}: skipped (PLAYRATE {rate:g} with preserved pitch is a time stretch)")
        return
    if length <= 0:
        out.skip("empty item", f"{label}: skipped (zero length)")
        return
    out.audio.append(AudioSpan(label, path, position, length, soffs + section_offset, rate))


def read_audio_track(track: Element, name: str, project_dir: Path, out: AnnotatedProject) -> None:
    """Add the track's unmuted audio items to `out` as AudioSpans (labelled `NAME item N`); skips are counted."""
    for index, element in enumerate(items(track)):
        label = f"{name} item {index + 1}"
        if is_muted(element):
            out.skip("muted item", f"{label}: skipped (muted)")
            continue
        read_audio_item(element, label, project_dir, out)


def read_annotated_project(path: str | Path, audio_track: str, midi_track: str) -> AnnotatedProject:
    """The audio items on `audio_track` and the MIDI items on `midi_track`, in project seconds."""
    path = Path(path)
    root, _ = load_project(path)
    project_dir = path.resolve().parent
    out = AnnotatedProject(path, [], [])
    read_audio_track(find_track(root, audio_track, path), audio_track, project_dir, out)
    pools = MidiPools(root)
    midi = find_track(root, midi_track, path)
    midi_index = tracks(root).index(midi)
    for index, element in enumerate(items(midi)):
        label = f"{midi_track} item {index + 1}"
        if is_muted(element):
            out.skip("muted item", f"{label}: skipped (muted)")
            continue
        try:
            take = read_take(root, project_dir, midi_index, index, element, label, pools)
        except ReaDDSPError as err:
            raise ReaDDSPError(str(err), path) from None
        if isinstance(take, str):
            out.skip("not a MIDI item", take)
            continue
        perf = take_to_performance(take.midi, take.timing.ppq_to_item_seconds, take.length, take.loop, name=label)
        out.annotations.append(_annotation(label, take.timing.position, take.length, perf.parts))
    return out


def _annotation(label: str, position: float, length: float, parts: list) -> AnnotationSpan:
    """All non-drum channels of an item as one span in project time (lanes merged by time)."""
    notes: list[Note] = []
    lanes = ControlLanes()
    for part in parts:
        if part.is_drum:
            continue
        notes += [Note(n.pitch, n.onset + position, n.offset + position, n.velocity) for n in part.notes]
        for controller, events in part.cc.items():
            lanes.cc.setdefault(controller, []).extend((t + position, v) for t, v in events)
        lanes.pitch_bend.extend((t + position, v) for t, v in part.pitch_bend)
    for events in lanes.cc.values():
        events.sort(key=lambda e: e[0])
    lanes.pitch_bend.sort(key=lambda e: e[0])
    notes.sort(key=lambda n: (n.onset, n.pitch))
    return AnnotationSpan(label, position, length, notes, lanes)
