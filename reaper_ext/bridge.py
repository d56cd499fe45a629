"""All live REAPER access (reapy): read selected MIDI items, add/restore takes, take P_EXT data, undo.

A take's saved expression (P_EXT `readdsp_expression`) is `readdsp-expression/1` JSON, the sidecar's format
(`core/expression_io.py`): rows carry pitch and onset and apply to the notes they still match.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import rpp

from readdsp.core.errors import ReaDDSPError
from readdsp.core.expression_io import apply_take_expression
from readdsp.core.midi_rules import MidiCC, MidiNote, TakeMidi, take_to_performance
from readdsp.core.performance import Performance
from readdsp.reaper_ext import reapy_link
from readdsp.reaper_ext.item_chunk import ItemChunk, new_guid, parse_item_text
from readdsp.reaper_ext.panel_link import BarLine, NoteRow
from readdsp.reaper_ext.rpp_read import loads
from readdsp.reaper_ext.rpp_text import add_take_to_item_text, take_lines

EXT_PREFIX = "readdsp_"
NULL_SUFFIX = "0x0000000000000000"
UNDO_STATE_ITEMS = 4  # reaper_plugin.h UNDO_STATE_ITEMS
MAX_BARS = 10_000  # bars read for one item's ruler


@dataclass
class MidiItem:
    """A selected item's active MIDI take, converted to seconds from the item start."""

    item: str
    take: str
    take_guid: str
    name: str
    position: float
    length: float
    performance: Performance
    ext: dict[str, str] = field(default_factory=dict)
    bars: list[BarLine] = field(default_factory=list)  # read for the expression panel's ruler only (`read_take`)


@dataclass
class Selection:
    midi_items: list[MidiItem]
    messages: list[str]
    sample_rate: int = 48000
    media_folder: Path = Path(".")
    muted: int = 0  # muted items skipped


class ReaperBridge:
    """One connection to REAPER. Each public method runs inside one reapy HOLD (one server round of calls)."""

    def __init__(self, host: str = "localhost", web_port: int | None = None):
        self.host, self.web_port = host, web_port
        self._connected = False
        self._lock = threading.RLock()  # reapy has one socket per process: one session at a time

    def connect(self) -> None:
        reapy_link.connect(self.host, self.web_port)
        self._connected = True

    @contextlib.contextmanager
    def _session(self) -> Iterator:
        with self._lock:
            with self._connected_session() as rpr:
                yield rpr

    @contextlib.contextmanager
    def _connected_session(self) -> Iterator:
        if not self._connected:
            self.connect()
        import reapy
        from reapy import reascript_api as rpr

        try:
            with reapy.inside_reaper():
                yield rpr
        except (TimeoutError, ConnectionError, OSError) as err:
            self._connected = False
            raise reapy_link.lost_connection_error(err) from None
        except reapy.errors.DistError as err:
            raise ReaDDSPError(f"REAPER refused a call: {str(err).strip().splitlines()[-1]}") from None
        except AttributeError as err:  # reascript_api is empty when the link dropped during the call
            self._connected = False
            raise ReaDDSPError(f"REAPER link lost: {err}") from None

    @contextlib.contextmanager
    def _chunk_edits(self, undo_name: str) -> Iterator[tuple]:
        """`(rpr, write)`: `write(item, old text, new text, name[, path])` sets an item's chunk; all in one undo
        point, and all or nothing (a ReaDDSPError puts back every chunk already written: no take is left behind)."""
        originals: list[tuple[str, str]] = []
        with self._session() as rpr:

            def write(item: str, old_text: str, new_text: str, name: str, path: Path | None = None) -> None:
                originals.append((item, old_text))
                if not rpr.SetItemStateChunk(item, new_text, False):
                    raise ReaDDSPError(f"REAPER refused the new take for {name}", path)
                rpr.UpdateItemInProject(item)

            rpr.Undo_BeginBlock2(0)
            try:
                yield rpr, write
            except ReaDDSPError:
                for item, text in originals:
                    rpr.SetItemStateChunk(item, text, False)
                raise
            finally:
                rpr.Undo_EndBlock2(0, undo_name, UNDO_STATE_ITEMS)
            rpr.UpdateArrange()

    # --- project ----------------------------------------------------------------
    def project_sample_rate(self) -> int:
        with self._session() as rpr:
            return self._sample_rate(rpr)

    @staticmethod
    def _sample_rate(rpr) -> int:
        """The project rate when the project sets one, else the audio device's (what REAPER plays at)."""
        if rpr.GetSetProjectInfo(0, "PROJECT_SRATE_USE", 0, False):
            return int(rpr.GetSetProjectInfo(0, "PROJECT_SRATE", 0, False))
        ok, _, rate, _ = rpr.GetAudioDeviceInfo("SRATE", "", 64)
        return int(float(rate)) if ok and rate else 48000

    def media_folder(self) -> Path:
        with self._session() as rpr:
            return Path(rpr.GetProjectPath("", 4096)[0])

    def show_message(self, text: str) -> None:
        """Print to REAPER's ReaScript console (how the engine reports results and skipped items)."""
        with self._session() as rpr:
            rpr.ShowConsoleMsg(text.rstrip("\n") + "\n")

    def save_project(self) -> None:
        with self._session() as rpr:
            rpr.Main_SaveProject(0, False)

    # --- reading ----------------------------------------------------------------
    def read_selected(self) -> Selection:
        """The selected items' active MIDI takes; non-MIDI and empty items come back as messages."""
        items: list[MidiItem] = []
        messages: list[str] = []
        muted = 0
        with self._session() as rpr:
            for index in range(rpr.CountSelectedMediaItems(0)):
                item = rpr.GetSelectedMediaItem(0, index)
                if rpr.GetMediaItemInfo_Value(item, "B_MUTE"):
                    muted += 1
                    continue
                take = rpr.GetActiveTake(item)
                name = f"item {index + 1}"
                if take.endswith(NULL_SUFFIX):
                    messages.append(f"{name}: skipped (empty item, no take)")
                    continue
                name = rpr.GetSetMediaItemTakeInfo_String(take, "P_NAME", "", False)[3] or name
                if not rpr.TakeIsMIDI(take):
                    take = self._source_midi_take(rpr, item, take) or take
                    name = rpr.GetSetMediaItemTakeInfo_String(take, "P_NAME", "", False)[3] or name
                if not rpr.TakeIsMIDI(take):
                    messages.append(f"{name}: skipped (not a MIDI take)")
                    continue
                midi_item = self._read_midi_item(rpr, item, take, name)
                if midi_item.performance.n_notes == 0:
                    messages.append(f"{name}: no notes to render")
                    continue
                items.append(midi_item)
            if muted:
                messages.append(f"{muted} muted item(s) skipped")
            media = Path(rpr.GetProjectPath("", 4096)[0])
            return Selection(items, messages, self._sample_rate(rpr), media, muted)

    def _source_midi_take(self, rpr, item: str, take: str) -> str | None:
        """For one of our rendered takes, the MIDI take it came from (by the GUID saved on it)."""
        wanted = self._read_ext(rpr, take).get("source_take")
        if not wanted:
            return None
        for index in range(rpr.CountTakes(item)):
            candidate = rpr.GetTake(item, index)
            guid = rpr.GetSetMediaItemTakeInfo_String(candidate, "GUID", "", False)[3]
            if guid == wanted and rpr.TakeIsMIDI(candidate):
                return candidate
        return None

    def _read_midi_item(self, rpr, item: str, take: str, name: str) -> MidiItem:
        position = rpr.GetMediaItemInfo_Value(item, "D_POSITION")
        length = rpr.GetMediaItemInfo_Value(item, "D_LENGTH")
        loop = bool(rpr.GetMediaItemInfo_Value(item, "B_LOOPSRC"))
        _, _, n_notes, n_ccs, _ = rpr.MIDI_CountEvts(take, 0, 0, 0)
        midi = TakeMidi()
        for i in range(n_notes):
            ok, _, _, _, muted, start, end, chan, pitch, vel = rpr.MIDI_GetNote(take, i, 0, 0, 0, 0, 0, 0, 0)
            if ok:
                midi.notes.append(MidiNote(start, end, chan, pitch, vel, bool(muted)))
        for i in range(n_ccs):
            ok, _, _, _, muted, ppq, status, chan, msg2, msg3 = rpr.MIDI_GetCC(take, i, 0, 0, 0, 0, 0, 0, 0)
            if ok:
                midi.ccs.append(MidiCC(ppq, status & 0xF0, chan, msg2, msg3, bool(muted)))
        if loop:
            source = rpr.GetMediaItemTake_Source(take)
            qn_len, _, is_qn = rpr.GetMediaSourceLength(source, False)
            if is_qn:
                qn0 = rpr.MIDI_GetProjQNFromPPQPos(take, 0.0)
                midi.source_length_ppq = rpr.MIDI_GetPPQPosFromProjQN(take, qn0 + qn_len)
        cache: dict[float, float] = {}

        def to_item_seconds(ppq: float) -> float:
            if ppq not in cache:
                cache[ppq] = rpr.MIDI_GetProjTimeFromPPQPos(take, ppq) - position
            return cache[ppq]

        performance = take_to_performance(midi, to_item_seconds, length, loop, name=name)
        return MidiItem(
            item=item,
            take=take,
            take_guid=rpr.GetSetMediaItemTakeInfo_String(take, "GUID", "", False)[3],
            name=name,
            position=position,
            length=length,
            performance=performance,
            ext=self._read_ext(rpr, take),
        )

    @staticmethod
    def _read_ext(rpr, take: str) -> dict[str, str]:
        out = {}
        for key in ("instrument", "seed", "expression", "source_take", "humanized_from"):
            ok, _, _, value, _ = rpr.GetSetMediaItemTakeInfo_String(take, f"P_EXT:{EXT_PREFIX}{key}", "", False)
            if ok and value:
                out[key] = value
        return out

    def selected_midi_take(self) -> tuple[str, str]:
        """(GUID, name) of the first selected item's MIDI take (the source of a ReaDDSP render), or ("", "")."""
        with self._session() as rpr:
            for index in range(rpr.CountSelectedMediaItems(0)):
                item = rpr.GetSelectedMediaItem(0, index)
                take = rpr.GetActiveTake(item)
                if take.endswith(NULL_SUFFIX):
                    continue
                if not rpr.TakeIsMIDI(take):
                    take = self._source_midi_take(rpr, item, take) or take
                if rpr.TakeIsMIDI(take):
                    guid = rpr.GetSetMediaItemTakeInfo_String(take, "GUID", "", False)[3]
                    return guid, rpr.GetSetMediaItemTakeInfo_String(take, "P_NAME", "", False)[3] or "MIDI item"
            return "", ""

    @staticmethod
    def _find_take(rpr, take_guid: str) -> tuple[str, str]:
        """(item, take) of the take with this GUID anywhere in the project; ReaDDSPError if there is none."""
        for index in range(rpr.CountMediaItems(0)):
            item = rpr.GetMediaItem(0, index)
            for t in range(rpr.CountTakes(item)):
                take = rpr.GetTake(item, t)
                if rpr.GetSetMediaItemTakeInfo_String(take, "GUID", "", False)[3] == take_guid:
                    return item, take
        raise ReaDDSPError(f"no take {take_guid[:60]} in the project (deleted?)")

    def read_take(self, take_guid: str, with_bars: bool = False) -> tuple[MidiItem, int, Path]:
        """One MIDI take by GUID (its notes in item seconds), with the project's sample rate and media folder;
        `with_bars`: also the project's bars over the item, its tempo map and time signatures (`_read_bars`)."""
        with self._session() as rpr:
            item, take = self._find_take(rpr, take_guid)
            if not rpr.TakeIsMIDI(take):
                raise ReaDDSPError(f"take {take_guid[:60]} is not a MIDI take")
            name = rpr.GetSetMediaItemTakeInfo_String(take, "P_NAME", "", False)[3] or "MIDI item"
            media = Path(rpr.GetProjectPath("", 4096)[0])
            midi_item = self._read_midi_item(rpr, item, take, name)
            if with_bars:
                self._read_bars(rpr, midi_item)
            return midi_item, self._sample_rate(rpr), media

    @staticmethod
    def _read_bars(rpr, midi_item: MidiItem) -> None:
        """REAPER's own bars from the one before the item start to the first at or past its end
        (TimeMap2_timeToBeats, TimeMap_GetMeasureInfo: the project's tempo map and time signatures, ramps and
        partial measures included); the performance's tempo map and time signatures follow them, in item seconds
        (the tempo at the item start and at each bar start where it changes: a ramp shows as one step a bar)."""
        start, end = midi_item.position, midi_item.position + midi_item.length
        measure = int(rpr.TimeMap2_timeToBeats(0, start, 0, 0, 0, 0)[3])
        bars: list[BarLine] = []
        while len(bars) < MAX_BARS:
            seconds, _, _, _, _, numerator, denominator, bpm = rpr.TimeMap_GetMeasureInfo(0, measure, 0, 0, 0, 0, 0)
            bars.append(BarLine(seconds - start, measure + 1, int(numerator), int(denominator), float(bpm)))
            if seconds >= end:
                break
            measure += 1
        midi_item.bars = bars
        performance = midi_item.performance
        first_bpm = float(rpr.TimeMap_GetTimeSigAtTime(0, start, 0, 0, 0)[4])
        performance.tempo_map = [(0.0, first_bpm)]
        performance.time_signatures = [(0.0, bars[0].numerator, bars[0].denominator)]
        for bar in (b for b in bars[1:] if b.seconds < midi_item.length):
            if bar.bpm != performance.tempo_map[-1][1]:
                performance.tempo_map.append((bar.seconds, bar.bpm))
            if (bar.numerator, bar.denominator) != performance.time_signatures[-1][1:]:
                performance.time_signatures.append((bar.seconds, bar.numerator, bar.denominator))

    def store_take_data(self, take_guid: str, values: dict[str, str], undo_name: str) -> None:
        """Set P_EXT data on the take with this GUID, as one undo point."""
        with self._session() as rpr:
            _, take = self._find_take(rpr, take_guid)
            rpr.Undo_BeginBlock2(0)
            try:
                for key, value in values.items():
                    rpr.GetSetMediaItemTakeInfo_String(take, f"P_EXT:{EXT_PREFIX}{key}", str(value), True)
            finally:
                rpr.Undo_EndBlock2(0, undo_name, UNDO_STATE_ITEMS)

    # --- per-take data ------------------------------------------------------------
    def take_data(self, take: str) -> dict[str, str]:
        with self._session() as rpr:
            return self._read_ext(rpr, take)

    def set_take_data(self, take: str, values: dict[str, str], undo_name: str = "ReaDDSP: edit take data") -> None:
        with self._session() as rpr:
            rpr.Undo_BeginBlock2(0)
            try:
                for key, value in values.items():
                    rpr.GetSetMediaItemTakeInfo_String(take, f"P_EXT:{EXT_PREFIX}{key}", str(value), True)
            finally:
                rpr.Undo_EndBlock2(0, undo_name, UNDO_STATE_ITEMS)

    # --- writing ------------------------------------------------------------------
    def add_audio_takes(self, takes: list[tuple[str, Path, str, dict[str, str]]], undo_name: str) -> list[str]:
        """Add `(item, wav, take name, P_EXT data)` takes (made active) in one undo point; returns GUIDs.

        The item's chunk text is edited in place (`rpp_text`): only the new take's lines and `TAKE SEL` change.
        """
        guids = []
        with self._chunk_edits(undo_name) as (rpr, write):
            for item, wav, name, ext in takes:
                text = rpr.GetItemStateChunk(item, "", 0, False)[2]
                guid = new_guid()
                take = take_lines(name, str(wav), guid, {EXT_PREFIX + k: v for k, v in ext.items()})
                write(item, text, add_take_to_item_text(text, take), name, wav)
                guids.append(guid)
        return guids

    def restore_midi_takes(self, undo_name: str = "ReaDDSP: restore MIDI take") -> list[str]:
        """Make each selected item's MIDI take active again: for our audio take, the one it was rendered from;
        for a humanized MIDI take, the original it was made from; else the item's original (first) MIDI take."""
        restored = []
        with self._session() as rpr:
            rpr.Undo_BeginBlock2(0)
            try:
                for index in range(rpr.CountSelectedMediaItems(0)):
                    item = rpr.GetSelectedMediaItem(0, index)
                    active = rpr.GetActiveTake(item)
                    if active.endswith(NULL_SUFFIX):
                        continue
                    candidates = [rpr.GetTake(item, i) for i in range(rpr.CountTakes(item))]
                    midi_takes = [t for t in candidates if rpr.TakeIsMIDI(t)]
                    by_guid = {rpr.GetSetMediaItemTakeInfo_String(t, "GUID", "", False)[3]: t for t in midi_takes}
                    if rpr.TakeIsMIDI(active):
                        target = self._original_take(rpr, active, by_guid)
                    else:
                        plain = [t for t in midi_takes if not self._read_ext(rpr, t).get("humanized_from")]
                        target = by_guid.get(self._read_ext(rpr, active).get("source_take"))
                        target = target or (plain or midi_takes or [None])[0]
                    if target and target != active:
                        rpr.SetActiveTake(target)
                        rpr.UpdateItemInProject(item)
                        restored.append(target)
            finally:
                rpr.Undo_EndBlock2(0, undo_name, UNDO_STATE_ITEMS)
            rpr.UpdateArrange()
        return restored

    def _original_take(self, rpr, take: str, by_guid: dict[str, str]) -> str | None:
        """The MIDI take a humanized take was made from, followed back to the first one; None if not humanized."""
        target, seen = take, {take}
        while (earlier := by_guid.get(self._read_ext(rpr, target).get("humanized_from"))) and earlier not in seen:
            seen.add(earlier)
            target = earlier
        return None if target == take else target

    def add_midi_takes(self, edit: Callable[[str, str, dict], tuple[str, str, int]], undo_name: str) -> dict:
        """For each selected item's MIDI take (the source of a ReaDDSP render), `edit(item chunk text, take GUID,
        {"qn_at_ppq0", "bar_quarters"})` gives the item's new chunk text (with a new take), its GUID and a count;
        all written in one undo point, all or nothing. A ReaDDSPError from `edit` skips that item with a message."""
        takes, messages = [], []
        with self._chunk_edits(undo_name) as (rpr, write):
            for index in range(rpr.CountSelectedMediaItems(0)):
                item = rpr.GetSelectedMediaItem(0, index)
                take = rpr.GetActiveTake(item)
                if take.endswith(NULL_SUFFIX) or rpr.GetMediaItemInfo_Value(item, "B_MUTE"):
                    continue
                if not rpr.TakeIsMIDI(take):
                    take = self._source_midi_take(rpr, item, take) or take
                name = rpr.GetSetMediaItemTakeInfo_String(take, "P_NAME", "", False)[3] or f"item {index + 1}"
                if not rpr.TakeIsMIDI(take):
                    messages.append(f"{name}: skipped (not a MIDI take)")
                    continue
                position = rpr.GetMediaItemInfo_Value(item, "D_POSITION")
                _, _, numerator, denominator, _ = rpr.TimeMap_GetTimeSigAtTime(0, position, 0, 0, 0)
                context = {
                    "qn_at_ppq0": rpr.MIDI_GetProjQNFromPPQPos(take, 0.0),
                    "bar_quarters": 4.0 * numerator / max(denominator, 1),
                }
                text = rpr.GetItemStateChunk(item, "", 0, False)[2]
                guid = rpr.GetSetMediaItemTakeInfo_String(take, "GUID", "", False)[3]
                try:
                    new_text, new_guid, count = edit(text, guid, context)
                except ReaDDSPError as err:
                    messages.append(f"{name}: skipped ({err})")
                    continue
                write(item, text, new_text, name)
                takes.append({"item": name, "take": new_guid, "notes": count})
        return {"takes": takes, "messages": messages or ([] if takes else ["no MIDI items selected"])}

    def add_midi_take_with_notes(
        self,
        take_guid: str,
        rows: list[NoteRow],
        edit: Callable[[str, str, dict], tuple[str, str, int]],
        undo_name: str,
    ) -> dict:
        """The MIDI take `take_guid` copied into a new active take of its item by `edit(item chunk text, take GUID,
        changes)`, where `changes` maps (channel, pitch, note-on PPQ) to (velocity, new note-on PPQ, new note-off
        PPQ) for each of `rows` (seconds from the item start, converted by REAPER itself); one undo point."""
        with self._chunk_edits(undo_name) as (rpr, write):
            item, take = self._find_take(rpr, take_guid)
            if not rpr.TakeIsMIDI(take):
                raise ReaDDSPError(f"take {take_guid[:60]} is not a MIDI take")
            name = rpr.GetSetMediaItemTakeInfo_String(take, "P_NAME", "", False)[3] or "MIDI item"
            position = rpr.GetMediaItemInfo_Value(item, "D_POSITION")

            def ppq(seconds: float) -> int:
                return round(rpr.MIDI_GetPPQPosFromProjTime(take, position + seconds))

            changes = {
                (row.channel, row.pitch, ppq(row.onset)): (row.velocity, ppq(row.new_onset), ppq(row.new_offset))
                for row in rows
            }
            text = rpr.GetItemStateChunk(item, "", 0, False)[2]
            new_text, guid, count = edit(text, take_guid, changes)
            write(item, text, new_text, name)
        return {"takes": [{"item": name, "take": guid, "notes": count}], "messages": []}

    # --- tracks -------------------------------------------------------------------
    def selected_track_chunk(self) -> tuple[str, str]:
        """(name, state chunk text) of the first selected track."""
        with self._session() as rpr:
            if rpr.CountSelectedTracks(0) < 1:
                raise ReaDDSPError("select a track whose FX chain should be modelled")
            track = rpr.GetSelectedTrack(0, 0)
            name = rpr.GetTrackName(track, "", 512)[2]
            return name, rpr.GetTrackStateChunk(track, "", 0, False)[2]


def apply_saved_expression(performance: Performance, ext: dict[str, str], name: str = "") -> list[str]:
    """Apply P_EXT `readdsp_expression` (see `core.expression_io.apply_take_expression`); returns its messages."""
    return apply_take_expression(performance, ext.get("expression", ""), name)


def fx_chain_from_track_chunk(chunk_text: str) -> str:
    """The `.RfxChain` text for a track chunk: the contents of its `<FXCHAIN` block minus window state."""
    track = loads(chunk_text)
    chain = next((c for c in track.children if isinstance(c, rpp.Element) and c.tag == "FXCHAIN"), None)
    if chain is None:
        raise ReaDDSPError("the selected track has no FX")
    window_keys = {"WNDRECT", "SHOW", "LASTSEL", "DOCKED"}
    lines = [c for c in chain.children if not (isinstance(c, list) and c and c[0] in window_keys)]
    if not any(isinstance(c, rpp.Element) for c in lines):
        raise ReaDDSPError("the selected track has no FX")
    body = rpp.dumps(rpp.Element("FXCHAIN", [], lines)).splitlines()[1:-1]
    return "\n".join(line[2:] if line.startswith("  ") else line for line in body) + "\n"


def item_chunk_of(text: str) -> ItemChunk:
    return parse_item_text(text)
