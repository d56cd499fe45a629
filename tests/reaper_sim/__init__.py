"""A REAPER simulator for tests: a loopback process speaking reapy's real protocol over an .RPP project.

Start it with `ReaperSimulator(project_path)` (a context manager). It runs `reaper_sim.server` in a child
process, where a `reaper_python` module of simulated `RPR_*` functions stands in for REAPER's. Like a REAPER
where `readdsp reaper install` ran, its resource folder holds ReaDDSP's installed actions (the real install,
into a temporary folder), and the real, unmodified reapy client reaches it as it reaches REAPER:

* web interface: `GET /_/GET/EXTSTATE/reapy/server_port` -> `EXTSTATE\\treapy\\tserver_port\\t<port>\\n`
  (reapy's port lookup; empty until a reapy server runs), and `GET /_/<command>` runs an action;
* reapy server: no server runs until a client asks for the `ReaDDSP: Start reapy server` action; it then
  serves reapy's protocol (8-byte little-endian length + JSON requests, `HOLD`/`RELEASE`) from REAPER's
  defer loop (~30 Hz). With `reapy_enabled=False` nothing is installed, as in a REAPER without ReaDDSP.

The project is the parsed .RPP (package `rpp`); `Main_SaveProject` writes it back to the same file.

Simulated functions (REAPER's documented semantics, `reaper_python` return shapes):
  application: GetAppVersion, GetResourcePath, ShowConsoleMsg, ValidatePtr, ValidatePtr2, GetExtState,
    SetExtState, HasExtState, DeleteExtState, GetAudioDeviceInfo, UpdateArrange, UpdateItemInProject
  project: EnumProjects, GetProjectName, GetProjectPath, GetProjectPathEx, GetSetProjectInfo (PROJECT_SRATE,
    PROJECT_SRATE_USE), Main_SaveProject, Master_GetTempo, TimeMap2_timeToQN, TimeMap2_QNToTime,
    TimeMap_GetDividedBpmAtTime, TimeMap_GetTimeSigAtTime, TimeMap2_timeToBeats, TimeMap_GetMeasureInfo (time
    signatures from the TEMPO line and time-signature markers, measures in `reaper_sim/measures.py`),
    CountTempoTimeSigMarkers
  undo: Undo_BeginBlock, Undo_BeginBlock2, Undo_EndBlock, Undo_EndBlock2, Undo_CanUndo2
  tracks: CountTracks, GetTrack, CountSelectedTracks, GetSelectedTrack, GetTrackName, GetTrackStateChunk
  items: CountMediaItems, GetMediaItem, CountSelectedMediaItems, GetSelectedMediaItem, SetMediaItemSelected,
    GetMediaItemTrack, GetMediaItemInfo_Value / SetMediaItemInfo_Value (D_POSITION, D_LENGTH, B_LOOPSRC,
    B_MUTE, B_UISEL, D_SNAPOFFSET, I_CURTAKE), GetItemStateChunk, SetItemStateChunk
  takes: CountTakes, GetTake, GetActiveTake, SetActiveTake, GetMediaItemTake_Item, AddTakeToMediaItem,
    GetTakeName,
    TakeIsMIDI, GetMediaItemTakeInfo_Value (D_STARTOFFS, D_PLAYRATE, IP_TAKENUMBER, D_VOL),
    GetSetMediaItemTakeInfo_String (P_NAME, GUID, P_EXT:<key>), GetMediaItemTake_Source,
    GetMediaSourceType, GetMediaSourceFileName, GetMediaSourceLength, PCM_Source_CreateFromFile,
    SetMediaItemTake_Source
  MIDI: MIDI_CountEvts, MIDI_GetNote, MIDI_GetCC (CC, program, pitch bend...), MIDI_GetProjTimeFromPPQPos,
    MIDI_GetPPQPosFromProjTime, MIDI_GetProjQNFromPPQPos, MIDI_GetPPQPosFromProjQN
  test hooks (not in REAPER): Sim_UndoHistory, Sim_ConsoleText

Timing model: `reaper_ext/take_timing.py` (the path render-project uses): a MIDI take's PPQ 0 sits at
`POSITION - SOFFS / PLAYRATE`; PPQ advance follows the project tempo map (TEMPO, TEMPOENVEX square points and
linear ramps, linear in time as REAPER's are) from there, divided by the play rate. MIDI sources may be inline,
pooled (`MIDIPOOL`, events in the pool's first source) or an external `FILE`; `B_MUTE` reads the item's `MUTE`.
Take P_EXT data is stored in an `<EXT` block inside the take's part of the item chunk. SetItemStateChunk refuses
(False) a chunk with two takes of one GUID or a new MIDI take whose events do not parse; a new MIDI take whose
`POOLEDEVTS` id another source holds plays that pool's events, as REAPER pools them.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    """A free loopback port below the kernel's ephemeral range, as reapy's own 2306 is.

    The reapy server binds its port seconds after it is chosen; a port from the ephemeral range could meanwhile be
    handed to one of the suite's outgoing connections, and the server would then fail to bind.
    """
    ranges = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ranges.read_text().split()[0]) if ranges.exists() else 32768
    for port in random.Random().sample(range(max(low - 12000, 1024), low), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port below the ephemeral range")


class ReaperSimulator:
    """A running simulator process; `web_port` is what reapy's port lookup must use."""

    def __init__(self, project: str | Path, reapy_enabled: bool = True, device_rate: int = 44100):
        from readdsp.reaper_ext.install import install

        self.project = Path(project)
        self._dir = tempfile.TemporaryDirectory(prefix="reaper-sim-")
        ready = Path(self._dir.name) / "ready.json"
        self.resource_path = Path(self._dir.name) / "resource"
        self.resource_path.mkdir()
        if reapy_enabled:
            install(self.resource_path, configure_reapy=False)
        self.server_port = _free_port()
        cmd = [sys.executable, "-m", "reaper_sim.server", str(self.project), "--ready", str(ready)]
        cmd += ["--device-rate", str(device_rate), "--resource-path", str(self.resource_path)]
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]),
            READDSP_REAPY_SERVER_PORT=str(self.server_port),
        )
        self.process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                out = self.process.stdout.read().decode(errors="replace") if self.process.stdout else ""
                self.stop()
                raise RuntimeError(f"REAPER simulator did not start:\n{out}")
            time.sleep(0.02)
        ports = json.loads(ready.read_text())
        self.web_port: int = ports["web_port"]

    def pause(self) -> None:
        """Freeze the process (a REAPER that stops answering)."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self._dir.cleanup()

    def __enter__(self) -> ReaperSimulator:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
