"""Offline project rendering: read MIDI items from an .RPP, render them, and add audio takes to a copy.

Each item renders with its take's saved instrument, seed and expression (P_EXT `readdsp_expression`, applied to
the notes it still matches; unmatched rows are reported in the messages), as the engine does.

The copy is the input's text with only these changes: each rendered item gets one new active take (its
`TAKE SEL` line, if any, becomes `TAKE`) with its P_EXT data, and, when the copy lives in another folder,
relative media `FILE` paths are rewritten to resolve from there. Every other byte is the input's.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rpp import Element

from readdsp.core.atomic import write_bytes
from readdsp.core.errors import ReaDDSPError
from readdsp.core.expression_io import apply_take_expression
from readdsp.core.midi_rules import take_to_performance
from readdsp.core.output_path import check_output_file
from readdsp.reaper_ext.item_chunk import new_guid
from readdsp.reaper_ext.render_items import RenderJob, remove_files, render_job, unique_wav_path
from readdsp.reaper_ext.rpp_project import (
    MidiPools,
    ProjectTake,
    is_muted,
    items,
    load_project,
    project_sample_rate,
    read_take,
    track_name,
    tracks,
)
from readdsp.reaper_ext.rpp_text import add_active_take, rewrite_media_paths, split_lines, take_lines, track_items

if TYPE_CHECKING:  # the render API loads torch; the caller hands over a loaded renderer
    from readdsp.core.render import PerformanceRenderer


@dataclass
class OfflineItem:
    take: ProjectTake
    job: RenderJob


@dataclass
class ProjectItems:
    found: list[OfflineItem]
    messages: list[str]
    muted: int = 0


def midi_items(root: Element, project_dir: Path, track_names: list[str] | None, instrument: str | None) -> ProjectItems:
    """Every unmuted item's active MIDI take (on the named tracks, if given) as a render job, plus skip messages."""
    out = ProjectItems([], [])
    wanted = set(track_names or [])
    pools = MidiPools(root)
    for t_index, track in enumerate(tracks(root)):
        name = track_name(track) or f"track {t_index + 1}"
        if wanted and name not in wanted:
            continue
        for i_index, element in enumerate(items(track)):
            label = f"{name} item {i_index + 1}"
            if is_muted(element):
                out.muted += 1
                continue
            take = read_take(root, project_dir, t_index, i_index, element, label, pools)
            if isinstance(take, str):
                out.messages.append(take)
                continue
            perf = take_to_performance(take.midi, take.timing.ppq_to_item_seconds, take.length, take.loop, name=label)
            if perf.n_notes == 0:
                out.messages.append(f"{label}: no notes to render")
                continue
            active = take.chunk.takes[take.chunk.active_index]
            ext = active.ext()
            out.messages += apply_take_expression(perf, ext.get("readdsp_expression", ""), label)
            chosen = instrument or ext.get("readdsp_instrument") or None
            seed = ext.get("readdsp_seed", "0") or "0"
            if not seed.isdigit():
                raise ReaDDSPError(f"{label}: readdsp_seed {seed!r} is not a whole number")
            job = RenderJob(active.name or label, take.length, perf, chosen, int(seed))
            out.found.append(OfflineItem(take, job))
    if out.muted:
        out.messages.append(f"{out.muted} muted item(s) skipped")
    return out


@dataclass
class ProjectPlan:
    """A checked render-project run: input text, output path, the items to render and the sample rate."""

    source: Path
    output: Path
    text: str
    items: ProjectItems
    sample_rate: int


def plan_project(
    input_path: str | Path, output_path: str | Path, tracks: list[str] | None = None, instrument: str | None = None
) -> ProjectPlan:
    """Every check that needs no model: the output path, the project, its numbers and its MIDI items."""
    src, out = Path(input_path).resolve(), Path(output_path).resolve()
    if src == out:
        raise ReaDDSPError("the output must be a different file from the input project", out)
    check_output_file(out)
    root, text = load_project(src)
    try:
        found = midi_items(root, src.parent, tracks, instrument)
        sample_rate = project_sample_rate(root)
    except ReaDDSPError as err:
        raise ReaDDSPError(err.problem, err.path or src) from None
    if not found.found:
        reasons = "; ".join(found.messages) or "the project has no MIDI items"
        raise ReaDDSPError(f"nothing to render ({reasons})", src)
    return ProjectPlan(src, out, text, found, sample_rate)


def render_project(
    input_path: str | Path,
    output_path: str | Path,
    renderer: PerformanceRenderer,
    tracks: list[str] | None = None,
    instrument: str | None = None,
    plan: ProjectPlan | None = None,
) -> dict:
    """Render IN's MIDI items into WAVs beside OUT and write OUT = IN plus one new active take per item."""
    plan = plan or plan_project(input_path, output_path, tracks, instrument)
    src, out, found, sample_rate = plan.source, plan.output, plan.items, plan.sample_rate
    if instrument:
        renderer.check_instrument(instrument)
    media = out.parent
    temp_dir = media / f".{out.stem}.readdsp-tmp"
    media_existed = media.exists()
    temp_dir.mkdir(parents=True, exist_ok=True)
    placed: list[Path] = []
    messages = list(found.messages)
    try:
        lines = rewrite_media_paths(split_lines(plan.text), src.parent, out.parent)
        spans = track_items(lines)
        edits = []
        for item in found.found:
            try:
                rendered = render_job(renderer, item.job, sample_rate, temp_dir)
            except ReaDDSPError as err:  # e.g. an instrument saved on the take that no bundle here has
                raise ReaDDSPError(f"{item.take.label}: {err.problem}", src) from None
            messages += rendered.warnings
            wav = unique_wav_path(media, item.job.name, rendered.label)
            shutil.move(str(rendered.temp_wav), wav)
            placed.append(wav)
            ext = {"readdsp_instrument": rendered.label, "readdsp_seed": str(item.job.seed)}
            guid = item.take.chunk.takes[item.take.chunk.active_index].guid
            if guid:
                ext["readdsp_source_take"] = guid
            span = spans[item.take.track_index][item.take.item_index]
            new_take = take_lines(f"ReaDDSP: {rendered.label}", wav.name, new_guid(), ext)
            edits.append((span, add_active_take(lines, span, new_take)))
        for span, replacement in sorted(edits, key=lambda e: e[0].start, reverse=True):
            lines[span.start : span.end + 1] = replacement
        write_bytes(out, "".join(lines).encode("utf-8", errors="surrogateescape"))
    except BaseException:
        remove_files(placed)
        shutil.rmtree(temp_dir, ignore_errors=True)
        if not media_existed and media.is_dir() and not any(media.iterdir()):
            media.rmdir()  # a failed render leaves no output folder it made
        raise
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)
    return {"output": str(out), "wavs": [str(p) for p in placed], "messages": messages, "muted": found.muted}
