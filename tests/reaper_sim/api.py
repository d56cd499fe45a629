"""The simulated ReaScript API: `RPR_*` functions over a `SimProject`, shaped like `reaper_python`."""

from __future__ import annotations

import threading
import types
from pathlib import Path

import rpp

from readdsp.core.errors import ReaDDSPError
from readdsp.reaper_ext.item_chunk import ItemChunk, TakeChunk, parse_item_text
from readdsp.reaper_ext.rpp_midi import has_events, parse_midi_source, pool_id
from readdsp.reaper_ext.rpp_project import MIDI_SOURCES, MidiPools, midi_source_events
from readdsp.reaper_ext.take_timing import TakeTiming

from .measures import Measures, time_signatures
from .project import SimProject

APP_VERSION = "7.99/sim-linux-x86_64"


class SimReaper:
    """REAPER's state for one open project: pointers, selection, undo history, ext state."""

    def __init__(self, project: SimProject, device_rate: int = 44100, resource_path: Path | None = None):
        self.project = project
        self.device_rate = device_rate
        self.resource_path = resource_path or project.path.parent
        self.lock = threading.RLock()
        self.pointers: dict[str, object] = {}
        self.ids: dict[int, str] = {}
        self.ext_state: dict[tuple[str, str], str] = {}
        self.undo_history: list[str] = []
        self.undo_depth = 0
        self.console: list[str] = []
        self.project_ptr = self.ptr("ReaProject*", project)
        self._take_items: dict[int, ItemChunk] = {}
        self._midi_cache: dict[int, tuple[int, object]] = {}

    # --- pointers ---------------------------------------------------------------------------------------
    def ptr(self, kind: str, obj: object) -> str:
        key = id(obj)
        if key not in self.ids:
            self.ids[key] = f"({kind})0x{len(self.pointers) + 1:016X}"
            self.pointers[self.ids[key]] = obj
        return self.ids[key]

    def obj(self, pointer: object, kind: type | tuple[type, ...]) -> object:
        found = self.pointers.get(str(pointer))
        if not isinstance(found, kind):
            raise ValueError(f"invalid {getattr(kind, '__name__', kind)} pointer {pointer!r}")
        return found

    def proj(self, proj: object) -> SimProject:
        if proj in (0, None, "") or str(proj) == self.project_ptr:
            return self.project
        raise ValueError(f"invalid project {proj!r}")

    def all_items(self) -> list[ItemChunk]:
        return [item for index in sorted(self.project.items) for item in self.project.items[index]]

    def item_of_take(self, take: TakeChunk) -> ItemChunk:
        for item in self.all_items():
            if any(t is take for t in item.takes):
                return item
        raise ValueError("take no longer exists")

    def take_ptr(self, take: TakeChunk) -> str:
        return self.ptr("MediaItem_Take*", take)

    def midi(self, take: TakeChunk):
        """The take's events: inline, from its MIDI pool, or from its external file (as REAPER loads them)."""
        return self.midi_and_tpq(take)[0]

    def midi_and_tpq(self, take: TakeChunk):
        source = take.source
        if source is None or not source.attrib or source.attrib[0] not in MIDI_SOURCES:
            raise ValueError("take is not MIDI")
        version = id(source), len(source.children)
        cached = self._midi_cache.get(id(take))
        if cached is None or cached[0] != version:
            cached = (version, midi_source_events(source, MidiPools(self.project.root), self.project.path.parent))
            self._midi_cache[id(take)] = cached
        return cached[1]

    # --- take timing --------------------------------------------------------------------------------------
    def timing(self, take: TakeChunk) -> TakeTiming:
        """The take's PPQ <-> time mapping (the same code path render-project uses)."""
        item = self.item_of_take(take)
        tpq = self.midi_and_tpq(take)[1] if take.source is not None else 960
        return TakeTiming(
            self.project.tempo_map(),
            float(item.header_value("POSITION", "0")),
            float((take.values("SOFFS") or ["0"])[0]),
            float((take.values("PLAYRATE") or ["1"])[0]) or 1.0,
            tpq,
        )

    def ppq_to_time(self, take: TakeChunk, ppq: float) -> float:
        return self.timing(take).ppq_to_project_seconds(ppq)

    def time_to_ppq(self, take: TakeChunk, t: float) -> float:
        return self.timing(take).project_seconds_to_ppq(t)


def build_module(sim: SimReaper) -> types.ModuleType:
    """A `reaper_python` module whose `RPR_*` functions act on `sim`."""
    module = types.ModuleType("reaper_python")
    functions: dict[str, object] = {}

    def api(fn):
        def locked(*args):
            with sim.lock:
                return fn(*args)

        locked.__name__ = locked.__qualname__ = f"RPR_{fn.__name__}"
        locked.__doc__ = fn.__doc__
        functions[locked.__name__] = locked
        return locked

    P = sim.project

    def item(ptr) -> ItemChunk:
        return sim.obj(ptr, ItemChunk)

    def take(ptr) -> TakeChunk:
        return sim.obj(ptr, TakeChunk)

    def selected_items() -> list[ItemChunk]:
        return [i for i in sim.all_items() if i.header_value("SEL", "0") == "1"]

    # --- application ------------------------------------------------------------------------------------
    @api
    def GetAppVersion():
        return APP_VERSION

    @api
    def GetResourcePath():
        return str(sim.resource_path)

    @api
    def ShowConsoleMsg(msg):
        sim.console.append(str(msg))

    @api
    def ValidatePtr2(proj, pointer, ctypename):
        found = sim.pointers.get(str(pointer))
        return found is not None and str(pointer).startswith(f"({ctypename})")

    @api
    def ValidatePtr(pointer, ctypename):
        return ValidatePtr2(0, pointer, ctypename)

    @api
    def GetExtState(section, key):
        return sim.ext_state.get((section, key), "")

    @api
    def SetExtState(section, key, value, persist):
        sim.ext_state[(section, key)] = str(value)

    @api
    def HasExtState(section, key):
        return (section, key) in sim.ext_state

    @api
    def DeleteExtState(section, key, persist):
        sim.ext_state.pop((section, key), None)

    @api
    def GetAudioDeviceInfo(attribute, desc, desc_sz):
        values = {"SRATE": str(sim.device_rate), "MODE": "sim", "BSIZE": "512"}
        value = values.get(str(attribute).upper())
        return value is not None, attribute, value or "", desc_sz

    @api
    def UpdateArrange():
        return None

    @api
    def UpdateItemInProject(it):
        item(it)

    # --- projects ---------------------------------------------------------------------------------------
    @api
    def EnumProjects(idx, projfn, projfn_sz):
        if idx in (-1, 0):
            return sim.project_ptr, idx, str(P.path), projfn_sz
        return "(ReaProject*)0x0000000000000000", idx, "", projfn_sz

    @api
    def GetProjectName(proj, buf, buf_sz):
        return proj, sim.proj(proj).path.name, buf_sz

    @api
    def GetProjectPath(buf, buf_sz):
        return str(P.media_folder), buf_sz

    @api
    def GetProjectPathEx(proj, buf, buf_sz):
        return proj, str(sim.proj(proj).media_folder), buf_sz

    @api
    def GetSetProjectInfo(proj, desc, value, is_set):
        rate, use = sim.proj(proj).sample_rate
        if is_set:
            raise ValueError("the simulator's project settings are read-only")
        return {"PROJECT_SRATE": float(rate), "PROJECT_SRATE_USE": float(use)}.get(str(desc), 0.0)

    @api
    def Main_SaveProject(proj, force_save_as):
        sim.proj(proj).save()

    @api
    def Master_GetTempo():
        return P.tempo_map().bpm_at(0.0)

    @api
    def TimeMap2_timeToQN(proj, tpos):
        return sim.proj(proj).tempo_map().to_position(float(tpos))

    @api
    def TimeMap2_QNToTime(proj, qn):
        return sim.proj(proj).tempo_map().to_seconds(float(qn))

    @api
    def TimeMap_GetDividedBpmAtTime(time):
        return P.tempo_map().bpm_at(float(time))

    def measures(proj) -> Measures:
        project = sim.proj(proj)
        return Measures(project.tempo_map(), time_signatures(project.root))

    @api
    def TimeMap_GetTimeSigAtTime(proj, time, num, denom, tempo):
        """The time signature of the measure at `time` (TEMPO line, then time-signature markers), the tempo there."""
        measure = measures(proj).at_time(float(time))
        bpm = sim.proj(proj).tempo_map().bpm_at(float(time))
        return proj, time, measure.numerator, measure.denominator, bpm

    @api
    def TimeMap2_timeToBeats(proj, tpos, measures_out, cml, fullbeats, cdenom):
        """Beats (of the time signature's denominator) since the measure start; the measure index from 0, the
        numerator, the quarter notes since the project start, the denominator."""
        measure = measures(proj).at_time(float(tpos))
        qn = sim.proj(proj).tempo_map().to_position(max(float(tpos), 0.0))
        beats = (qn - measure.qn_start) * measure.denominator / 4.0
        return beats, proj, tpos, measure.index, measure.numerator, qn, measure.denominator

    @api
    def TimeMap_GetMeasureInfo(proj, measure, qn_start, qn_end, timesig_num, timesig_denom, tempo):
        """Measure `measure` (from 0): its start in seconds, its quarter-note span, time signature and start tempo."""
        found = measures(proj).measure(int(measure))
        tempo_map = sim.proj(proj).tempo_map()
        start = tempo_map.to_seconds(found.qn_start)
        numerator, denominator = found.numerator, found.denominator
        return start, proj, measure, found.qn_start, found.qn_end, numerator, denominator, tempo_map.bpm_at(start)

    @api
    def CountTempoTimeSigMarkers(proj):
        return len(sim.proj(proj).tempo_map().points)

    # --- undo -------------------------------------------------------------------------------------------
    @api
    def Undo_BeginBlock2(proj):
        sim.proj(proj)
        sim.undo_depth += 1

    @api
    def Undo_BeginBlock():
        Undo_BeginBlock2(0)

    @api
    def Undo_EndBlock2(proj, descchange, extraflags):
        sim.proj(proj)
        if sim.undo_depth <= 0:
            return
        sim.undo_depth -= 1
        if sim.undo_depth == 0:
            sim.undo_history.append(str(descchange))

    @api
    def Undo_EndBlock(descchange, extraflags):
        Undo_EndBlock2(0, descchange, extraflags)

    @api
    def Undo_CanUndo2(proj):
        sim.proj(proj)
        return sim.undo_history[-1] if sim.undo_history else ""

    # --- tracks -----------------------------------------------------------------------------------------
    @api
    def CountTracks(proj):
        return len(sim.proj(proj).tracks)

    @api
    def GetTrack(proj, idx):
        tracks = sim.proj(proj).tracks
        return (
            sim.ptr("MediaTrack*", tracks[int(idx)])
            if 0 <= int(idx) < len(tracks)
            else "(MediaTrack*)0x0000000000000000"
        )

    def selected_tracks():
        return [t for t in P.tracks if any(c[:2] == ["SEL", "1"] for c in t.children if isinstance(c, list))]

    @api
    def CountSelectedTracks(proj):
        sim.proj(proj)
        return len(selected_tracks())

    @api
    def GetSelectedTrack(proj, idx):
        chosen = selected_tracks()
        return (
            sim.ptr("MediaTrack*", chosen[int(idx)])
            if 0 <= int(idx) < len(chosen)
            else "(MediaTrack*)0x0000000000000000"
        )

    @api
    def GetTrackName(track, buf, buf_sz):
        element = sim.obj(track, rpp.Element)
        name = next((c[1] for c in element.children if isinstance(c, list) and c[:1] == ["NAME"] and len(c) > 1), "")
        return True, track, name, buf_sz

    @api
    def GetTrackStateChunk(track, buf, buf_sz, isundo):
        element = sim.obj(track, rpp.Element)
        index = P.tracks.index(element)
        for chunk in P.items[index]:
            chunk.to_element()
        return True, track, rpp.dumps(element), buf_sz, isundo

    # --- items ------------------------------------------------------------------------------------------
    @api
    def CountMediaItems(proj):
        sim.proj(proj)
        return len(sim.all_items())

    @api
    def GetMediaItem(proj, idx):
        items = sim.all_items()
        return (
            sim.ptr("MediaItem*", items[int(idx)]) if 0 <= int(idx) < len(items) else "(MediaItem*)0x0000000000000000"
        )

    @api
    def CountSelectedMediaItems(proj):
        sim.proj(proj)
        return len(selected_items())

    @api
    def GetSelectedMediaItem(proj, selitem):
        chosen = selected_items()
        i = int(selitem)
        return sim.ptr("MediaItem*", chosen[i]) if 0 <= i < len(chosen) else "(MediaItem*)0x0000000000000000"

    @api
    def SetMediaItemSelected(it, selected):
        item(it).set_header_value("SEL", "1" if selected else "0")

    @api
    def GetMediaItemTrack(it):
        target = item(it)
        for index, chunks in P.items.items():
            if any(c is target for c in chunks):
                return sim.ptr("MediaTrack*", P.tracks[index])
        raise ValueError("item has no track")

    @api
    def GetMediaItemInfo_Value(it, parm):
        chunk = item(it)
        header = {
            "D_POSITION": ("POSITION", 0),
            "D_LENGTH": ("LENGTH", 0),
            "B_LOOPSRC": ("LOOP", 0),
            "B_MUTE": ("MUTE", 0),
            "B_UISEL": ("SEL", 0),
            "D_SNAPOFFSET": ("SNAPOFFS", 0),
        }
        if parm == "I_CURTAKE":
            return float(chunk.active_index)
        if parm in header:
            return float(chunk.header_value(header[parm][0], "0") or 0)
        raise ValueError(f"unsupported item parameter {parm!r}")

    @api
    def SetMediaItemInfo_Value(it, parm, value):
        chunk = item(it)
        keys = {
            "D_POSITION": "POSITION",
            "D_LENGTH": "LENGTH",
            "B_LOOPSRC": "LOOP",
            "B_UISEL": "SEL",
            "B_MUTE": "MUTE",
        }
        if parm == "I_CURTAKE":
            if not 0 <= int(value) < len(chunk.takes):
                return False
            chunk.set_active(int(value))
            return True
        if parm not in keys:
            raise ValueError(f"unsupported item parameter {parm!r}")
        text = repr(float(value)) if parm.startswith("D_") else str(int(value))
        chunk.set_header_value(keys[parm], text)
        return True

    @api
    def GetItemStateChunk(it, buf, buf_sz, isundo):
        return True, it, item(it).to_text(), buf_sz, isundo

    @api
    def SetItemStateChunk(it, text, isundo):
        chunk = item(it)
        try:
            parsed = parse_item_text(str(text))
        except Exception:
            return False
        by_guid = {t.guid: t for t in chunk.takes if t.guid}
        guids = [t.guid for t in parsed.takes if t.guid]
        if len(guids) != len(set(guids)):
            return False  # two takes with one GUID: REAPER would give one a new GUID; our writers must not
        takes = []
        for new in parsed.takes:
            old = by_guid.get(new.guid)
            if old is None and not _join_pool(new):
                return False
            if old is not None:
                old.children, old.active = new.children, new.active
                takes.append(old)
            else:
                takes.append(new)
        chunk.header, chunk.takes = parsed.header, takes
        return True

    def _join_pool(new: TakeChunk) -> bool:
        """A new MIDI take whose `POOLEDEVTS` id another source in the project holds plays that pool's events (as
        REAPER pools them); its own events must parse (False if not, as a refused chunk)."""
        source = new.source
        if source is None or not source.attrib or source.attrib[0] not in MIDI_SOURCES:
            return True
        ident = pool_id(source)
        pooled = [t.source for i in sim.all_items() for t in i.takes if t.source is not None and t.source is not source]
        holder = next((p for p in pooled if ident and pool_id(p) == ident and has_events(p)), None)
        if holder is not None:
            source.children = [c for c in source.children if not (isinstance(c, list) and c and c[0][:1] in "Ee")]
            source.children += [list(c) for c in holder.children if isinstance(c, list) and c and c[0][:1] in "Ee"]
        try:
            parse_midi_source(source)
        except ReaDDSPError:
            return False
        return True

    # --- takes ------------------------------------------------------------------------------------------
    @api
    def CountTakes(it):
        return len(item(it).takes)

    @api
    def GetTake(it, idx):
        takes = item(it).takes
        i = int(idx)
        return sim.take_ptr(takes[i]) if 0 <= i < len(takes) else "(MediaItem_Take*)0x0000000000000000"

    @api
    def GetActiveTake(it):
        chunk = item(it)
        i = chunk.active_index
        return sim.take_ptr(chunk.takes[i]) if i >= 0 else "(MediaItem_Take*)0x0000000000000000"

    @api
    def SetActiveTake(tk):
        target = take(tk)
        chunk = sim.item_of_take(target)
        chunk.set_active(next(i for i, t in enumerate(chunk.takes) if t is target))

    @api
    def GetMediaItemTake_Item(tk):
        return sim.ptr("MediaItem*", sim.item_of_take(take(tk)))

    @api
    def AddTakeToMediaItem(it):
        chunk = item(it)
        from readdsp.reaper_ext.item_chunk import new_guid

        new = TakeChunk([["NAME", ""], ["GUID", new_guid()], rpp.Element("SOURCE", ["EMPTY"], [])])
        chunk.takes.append(new)
        return sim.take_ptr(new)

    @api
    def GetTakeName(tk):
        return take(tk).name

    @api
    def TakeIsMIDI(tk):
        source = take(tk).source
        return source is not None and bool(source.attrib) and source.attrib[0] in MIDI_SOURCES

    @api
    def GetMediaItemTakeInfo_Value(tk, parm):
        target = take(tk)
        if parm == "D_STARTOFFS":
            return float((target.values("SOFFS") or ["0"])[0])
        if parm == "D_PLAYRATE":
            return float((target.values("PLAYRATE") or ["1"])[0])
        if parm == "IP_TAKENUMBER":
            return float(next(i for i, t in enumerate(sim.item_of_take(target).takes) if t is target))
        if parm == "D_VOL":
            return float((target.values("VOLPAN") or ["1"])[0])
        raise ValueError(f"unsupported take parameter {parm!r}")

    @api
    def GetSetMediaItemTakeInfo_String(tk, parmname, value, set_new_value):
        target = take(tk)
        name = str(parmname)
        if name == "P_NAME":
            if set_new_value:
                target.set_value("NAME", str(value))
            return True, tk, parmname, target.name, set_new_value
        if name == "GUID":
            return True, tk, parmname, target.guid or "", set_new_value
        if name.startswith("P_EXT:"):
            key = name[len("P_EXT:") :]
            if set_new_value:
                target.set_ext(key, str(value))
                return True, tk, parmname, str(value), set_new_value
            data = target.ext()
            return key in data, tk, parmname, data.get(key, ""), set_new_value
        raise ValueError(f"unsupported take string {name!r}")

    @api
    def GetMediaItemTake_Source(tk):
        target = take(tk)
        if target.source is None:
            return "(PCM_source*)0x0000000000000000"
        return sim.ptr("PCM_source*", target.source)

    @api
    def GetMediaSourceType(source, buf, buf_sz):
        element = sim.obj(source, rpp.Element)
        return source, (element.attrib[0] if element.attrib else ""), buf_sz

    @api
    def GetMediaSourceFileName(source, buf, buf_sz):
        element = sim.obj(source, rpp.Element)
        name = next((c[1] for c in element.children if isinstance(c, list) and c[:1] == ["FILE"] and len(c) > 1), "")
        return source, name, buf_sz

    @api
    def GetMediaSourceLength(source, length_is_qn):
        element = sim.obj(source, rpp.Element)
        if element.attrib and element.attrib[0] in MIDI_SOURCES:
            midi, tpq = midi_source_events(element, MidiPools(P.root), P.path.parent)
            return midi.source_length_ppq / tpq, source, True
        name = next((c[1] for c in element.children if isinstance(c, list) and c[:1] == ["FILE"] and len(c) > 1), "")
        try:
            import soundfile

            return soundfile.info(str(Path(P.media_folder, name))).duration, source, False
        except Exception:
            return 0.0, source, False

    @api
    def PCM_Source_CreateFromFile(filename):
        source = rpp.Element("SOURCE", ["WAVE"], [["FILE", str(filename)]])
        return sim.ptr("PCM_source*", source)

    @api
    def SetMediaItemTake_Source(tk, source):
        target = take(tk)
        element = sim.obj(source, rpp.Element)
        target.children = [c for c in target.children if not (isinstance(c, rpp.Element) and c.tag == "SOURCE")]
        target.children.append(element)
        return True

    # --- MIDI -------------------------------------------------------------------------------------------
    @api
    def MIDI_CountEvts(tk, notecnt, ccevtcnt, textsyxevtcnt):
        midi = sim.midi(take(tk))
        return len(midi.notes) + len(midi.ccs), tk, len(midi.notes), len(midi.ccs), 0

    @api
    def MIDI_GetNote(tk, noteidx, *_outs):
        midi = sim.midi(take(tk))
        i = int(noteidx)
        if not 0 <= i < len(midi.notes):
            return False, tk, noteidx, False, False, 0.0, 0.0, 0, 0, 0
        n = midi.notes[i]
        return (
            True,
            tk,
            noteidx,
            False,
            n.muted,
            float(n.start_ppq),
            float(n.end_ppq),
            n.channel,
            n.pitch,
            n.velocity,
        )

    @api
    def MIDI_GetCC(tk, ccidx, *_outs):
        midi = sim.midi(take(tk))
        i = int(ccidx)
        if not 0 <= i < len(midi.ccs):
            return False, tk, ccidx, False, False, 0.0, 0, 0, 0, 0
        c = midi.ccs[i]
        return True, tk, ccidx, False, c.muted, float(c.ppq), c.status, c.channel, c.msg2, c.msg3

    @api
    def MIDI_GetProjTimeFromPPQPos(tk, ppqpos):
        return sim.ppq_to_time(take(tk), float(ppqpos))

    @api
    def MIDI_GetPPQPosFromProjTime(tk, projtime):
        return sim.time_to_ppq(take(tk), float(projtime))

    @api
    def MIDI_GetProjQNFromPPQPos(tk, ppqpos):
        return sim.timing(take(tk)).ppq_to_project_qn(float(ppqpos))

    @api
    def MIDI_GetPPQPosFromProjQN(tk, qn):
        return sim.time_to_ppq(take(tk), P.tempo_map().to_seconds(float(qn)))

    # --- test hooks (not REAPER functions) ---------------------------------------------------------------
    @api
    def Sim_UndoHistory():
        """The descriptions of all undo points so far, oldest first."""
        return list(sim.undo_history)

    @api
    def Sim_ConsoleText():
        return "".join(sim.console)

    module.__dict__.update(functions)
    return module
