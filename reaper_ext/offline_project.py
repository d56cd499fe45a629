"""Offline project rendering: read MIDI items from an .RPP, render them, and add audio takes to a copy."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rpp
from rpp import Element

from readdsp.core.atomic import atomic_path
from readdsp.core.errors import ReaDDSPError
from readdsp.reaper_ext.item_chunk import ItemChunk, append_active_take, audio_take
from readdsp.reaper_ext.midi_events import take_to_performance
from readdsp.reaper_ext.render_items import RenderJob, remove_files, render_job, unique_wav_path
from readdsp.reaper_ext.rpp_midi import parse_midi_source, ticks_per_qn
from readdsp.reaper_ext.tempo_map import TempoMap

log = logging.getLogger(__name__)


def _line(element: Element, key: str) -> list[str] | None:
    return next((c for c in element.children if isinstance(c, list) and c and c[0] == key), None)


def load_project(path: Path) -> Element:
    try:
        root = rpp.loads(path.read_text(encoding="utf-8", errors="replace"))
    except FileNotFoundError:
        raise ReaDDSPError("project not found", path) from None
    except Exception as err:
        raise ReaDDSPError(f"not a REAPER project ({type(err).__name__}: {err})", path) from None
    if not isinstance(root, Element) or root.tag != "REAPER_PROJECT":
        raise ReaDDSPError("not a REAPER project (no <REAPER_PROJECT header)", path)
    return root


def project_tempo_map(root: Element) -> TempoMap:
    line = _line(root, "TEMPO")
    bpm = float(line[1]) if line and len(line) > 1 else 120.0
    env = next((c for c in root.children if isinstance(c, Element) and c.tag == "TEMPOENVEX"), None)
    points = []
    if env is not None:
        points = [(float(p[1]), float(p[2])) for p in env.children if isinstance(p, list) and p[:1] == ["PT"]]
    return TempoMap.from_points(points or [(0.0, bpm)], default_bpm=bpm)


def project_sample_rate(root: Element, default: int = 48000) -> int:
    line = _line(root, "SAMPLERATE")
    return int(float(line[1])) if line and len(line) > 1 and float(line[1]) > 0 else default


def track_name(track: Element) -> str:
    line = _line(track, "NAME")
    return line[1] if line and len(line) > 1 else ""


@dataclass
class OfflineItem:
    track: Element
    chunk: ItemChunk
    job: RenderJob


def midi_items(root: Element, tracks: list[str] | None, instrument: str | None) -> tuple[list[OfflineItem], list[str]]:
    """Every item's active MIDI take (on the named tracks, if given) as a render job, plus skip messages."""
    tempo = project_tempo_map(root)
    found: list[OfflineItem] = []
    messages: list[str] = []
    wanted = set(tracks or [])
    for t_index, track in enumerate(c for c in root.children if isinstance(c, Element) and c.tag == "TRACK"):
        name = track_name(track) or f"track {t_index + 1}"
        if wanted and name not in wanted:
            continue
        for i_index, element in enumerate(c for c in track.children if isinstance(c, Element) and c.tag == "ITEM"):
            chunk = ItemChunk.parse(element)
            label = f"{name} item {i_index + 1}"
            if chunk.active_index < 0:
                messages.append(f"{label}: skipped (empty item, no take)")
                continue
            take = chunk.takes[chunk.active_index]
            source = take.source
            if source is None or not source.attrib or source.attrib[0] != "MIDI":
                messages.append(f"{label}: skipped (not a MIDI take)")
                continue
            position = float(chunk.header_value("POSITION", "0") or 0)
            length = float(chunk.header_value("LENGTH", "0") or 0)
            loop = (chunk.header_value("LOOP", "0") or "0") == "1"
            soffs = float((take.values("SOFFS") or ["0"])[0])
            rate = float((take.values("PLAYRATE") or ["1"])[0]) or 1.0
            tpq = ticks_per_qn(source)
            take_start = position - soffs / rate
            qn0 = tempo.time_to_qn(take_start)
            t0 = tempo.qn_to_time(qn0)

            def to_item_seconds(ppq, qn0=qn0, t0=t0, rate=rate, start=take_start, pos=position, tpq=tpq):
                return start + (tempo.qn_to_time(qn0 + ppq / tpq) - t0) / rate - pos

            perf = take_to_performance(parse_midi_source(source), to_item_seconds, length, loop, name=label)
            if perf.n_notes == 0:
                messages.append(f"{label}: no notes to render")
                continue
            item_name = take.name or label
            ext = take.ext()
            chosen = instrument or ext.get("readdsp_instrument") or None
            seed = int(ext.get("readdsp_seed", "0") or 0)
            found.append(OfflineItem(track, chunk, RenderJob(item_name, length, perf, chosen, seed)))
    return found, messages


def render_project(
    input_path: str | Path,
    output_path: str | Path,
    renderer: Any,
    tracks: list[str] | None = None,
    instrument: str | None = None,
) -> dict:
    """Render IN's MIDI items into WAVs beside OUT and write OUT = IN plus one new active take per item."""
    src, out = Path(input_path).resolve(), Path(output_path).resolve()
    if src == out:
        raise ReaDDSPError("the output must be a different file from the input project", out)
    root = load_project(src)
    items, messages = midi_items(root, tracks, instrument)
    sample_rate = project_sample_rate(root)
    media = out.parent
    temp_dir = media / f".{out.stem}.readdsp-tmp"
    temp_dir.mkdir(parents=True, exist_ok=True)
    placed: list[Path] = []
    try:
        for item in items:
            rendered = render_job(renderer, item.job, sample_rate, temp_dir)
            wav = unique_wav_path(media, item.job.name, rendered.label)
            shutil.move(str(rendered.temp_wav), wav)
            placed.append(wav)
            ext = {"readdsp_instrument": rendered.label, "readdsp_seed": str(item.job.seed)}
            guid = item.chunk.takes[item.chunk.active_index].guid
            if guid:
                ext["readdsp_source_take"] = guid
            append_active_take(item.chunk, audio_take(wav.name, f"ReaDDSP: {rendered.label}", ext))
            item.chunk.to_element()
        with atomic_path(out) as tmp:
            tmp.write_text(rpp.dumps(root), encoding="utf-8")
    except BaseException:
        remove_files(placed)
        raise
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)
    return {"output": str(out), "wavs": [str(p) for p in placed], "messages": messages}
