"""The ReaDDSP engine: a long-lived OSC service on 127.0.0.1 that renders REAPER items in a worker thread.

OSC protocol (UDP; every reply goes to the address the command came from; `id` is a caller-chosen string):

    /readdsp/ping      id                         -> /readdsp/pong id version
    /readdsp/render    id [instrument] [seed]     -> render the selected MIDI items into new takes
    /readdsp/restore   id                         -> make the selected items' MIDI takes active again (the original,
                                                     not a humanized copy)
    /readdsp/humanize  id [amount] [seed]         -> a humanized copy of each selected MIDI take (learned velocities
                                                     and durations), added as the active take (one undo point)
    /readdsp/effect_dataset id [output_dir]       -> dataset from the selected track's FX (batch converter)
    /readdsp/status    id                         -> /readdsp/status id state queued done
    /readdsp/selected  id                         -> done {"take": GUID, "name"}: the first selected item's MIDI take
                                                     ("" if none); the panel's gentle selection poll (logged)
    /readdsp/item      id take                    -> done {"file": PATH}: that MIDI take's notes, instrument, seed and
                                                     saved expression as a readdsp-item/1 file (reaper_ext/panel_link),
                                                     with the project's bars over the item, from REAPER's tempo map
                                                     and time signatures: "bars" [[seconds from the item start, bar
                                                     number, numerator, denominator, bpm at the bar start], ...],
                                                     "tempo_map" [[s, bpm]], "time_signatures" [[s, num, den]]
    /readdsp/store_expression id take path        -> save a readdsp-expression/1 file's rows in the take's P_EXT
                                                     readdsp_expression (one undo point "ReaDDSP: edit expression")
    /readdsp/render_item id take [instrument] [seed] -> render that MIDI take into a new take of its item
    /readdsp/humanize_notes id take path          -> the panel's humanized notes as a new MIDI take: a copy of that
                                                     take (made active, the original kept) whose notes carry the
                                                     velocities, onsets and offsets of a readdsp-notes/1 file
                                                     (reaper_ext/panel_link) exactly, and its readdsp_expression; one
                                                     undo point "ReaDDSP: humanize MIDI item (expression panel)"
    /readdsp/quit      id                         -> stop the engine

Each accepted job replies `/readdsp/accepted id`, then `/readdsp/progress id done total` while it runs, then
`/readdsp/done id <JSON summary>` or `/readdsp/error id <message>`. Addresses are matched literally (an OSC
pattern such as `/readdsp/*` is an unknown command). A job's arguments are checked before it is accepted
(the instrument must be one the engine has; the request id at most 200 characters). Up to `MAX_QUEUED_JOBS`
jobs wait; beyond that a job is refused with an error ("busy"). Unknown addresses, malformed arguments,
datagrams that are not OSC or are over 8 KB all get `/readdsp/error id <message>` and a log line; the engine
never stops because of a bad message.
`instrument` "" means "saved on the take, else the program mapping"; `seed` < 0 means "saved on the take,
else 0". An item whose active take is a ReaDDSP render is rendered again from the MIDI take it came from.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from readdsp import __version__
from readdsp.core.errors import ReaDDSPError
from readdsp.core.expression_io import parse_expression_text
from readdsp.reaper_ext.bridge import MidiItem, ReaperBridge, apply_saved_expression
from readdsp.reaper_ext.humanize_take import humanize_edit, notes_edit
from readdsp.reaper_ext.osc_server import HOST, OscEndpoint
from readdsp.reaper_ext.panel_link import MAX_FILE_BYTES, item_document, read_notes_file, write_item_file
from readdsp.reaper_ext.render_items import (
    TEMP_PREFIX,
    RenderJob,
    clean_temp_dir,
    place_wavs,
    remove_files,
    render_job,
)

if TYPE_CHECKING:  # the render API loads torch; the engine is handed a loaded renderer
    from readdsp.core.render import PerformanceRenderer

DEFAULT_PORT = 9737
COMMANDS = ("ping", "render", "restore", "effect_dataset", "status", "quit", "selected", "item", "store_expression")
COMMANDS += ("render_item", "humanize", "humanize_notes")
QUIET = ("selected", "item", "store_expression")  # not echoed in REAPER's console
POLL_LOG_EVERY = 60  # a selection poll is logged when its answer changes, and every 60th poll
MAX_QUEUED_JOBS = 512
MAX_ID_CHARS = 200
MAX_PATH_CHARS = 4096
log = logging.getLogger("readdsp.engine")


def default_log_file() -> Path:
    return Path(platformdirs.user_log_dir("readdsp")) / "engine.log"


def default_temp_dir() -> Path:
    return Path(platformdirs.user_cache_dir("readdsp")) / "engine-tmp"


def setup_file_logging(path: Path) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=2, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


@dataclass
class Job:
    command: str
    request_id: str
    args: tuple
    reply_to: tuple[str, int]


class Engine:
    """Owns the renderer (loaded once), the REAPER bridge, the OSC server and one worker thread."""

    def __init__(
        self,
        renderer: PerformanceRenderer,
        bridge: ReaperBridge | None = None,
        port: int = DEFAULT_PORT,
        temp_dir: Path | None = None,
        effect_dataset: Callable[[ReaperBridge, str], dict] | None = None,
    ):
        self.renderer = renderer
        self.bridge = bridge or ReaperBridge()
        self.temp_dir = Path(temp_dir or default_temp_dir())
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        removed = clean_temp_dir(self.temp_dir)
        if removed:
            log.info("removed %d partial render(s) left by an earlier engine", removed)
        self.effect_dataset = effect_dataset
        self.jobs: queue.Queue[Job | None] = queue.Queue(maxsize=MAX_QUEUED_JOBS)
        self.done = 0
        self.state = "idle"
        self.endpoint = OscEndpoint(port, self._on_datagram_message, "/readdsp/error")
        self.port = self.endpoint.port
        self._threads: list[threading.Thread] = []
        self.stopped = threading.Event()
        self._polls, self._polled = 0, None

    # --- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> Engine:
        worker = threading.Thread(target=self._work, name="readdsp-worker", daemon=True)
        self._threads = [worker]
        worker.start()
        self.endpoint.start()
        log.info("engine %s listening on %s:%d", __version__, HOST, self.port)
        return self

    def shutdown(self) -> None:
        if self.stopped.is_set():
            return
        self.stopped.set()
        for job in _drain(self.jobs):
            self.send(job.reply_to, "/readdsp/error", job.request_id, "the engine stopped before this job ran")
        self.endpoint.close()
        self.jobs.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        log.info("engine stopped")

    def wait(self) -> None:
        while not self.stopped.wait(0.5):
            pass

    # --- messages ------------------------------------------------------------------------------------------
    def send(self, reply_to: tuple[str, int], address: str, *args: Any) -> None:
        self.endpoint.send(reply_to, address, *args)

    def _on_datagram_message(self, client: tuple[str, int], address: str, args: tuple) -> None:
        command = address[len("/readdsp/") :] if address.startswith("/readdsp/") else ""
        if command not in COMMANDS:  # literal match: a pattern like /readdsp/* is not a command
            request_id = str(args[0])[:MAX_ID_CHARS] if args else ""
            log.warning("unknown address %s %r", address[:200], args[:4])
            self.send(client, "/readdsp/error", request_id, f"unknown command {address[:200]}")
            return
        try:
            request_id, params = self._parse(command, args)
        except ValueError as err:
            log.warning("bad message %s %r: %s", address, args[:4], err)
            request_id = args[0][:MAX_ID_CHARS] if args and isinstance(args[0], str) else ""
            self.send(client, "/readdsp/error", request_id, f"{address}: {err}")
            return
        if command == "ping":
            self.send(client, "/readdsp/pong", request_id, __version__)
        elif command == "status":
            self.send(client, "/readdsp/status", request_id, self.state, self.jobs.qsize(), self.done)
        elif command == "quit":
            self.send(client, "/readdsp/done", request_id, json.dumps({"stopping": True}))
            threading.Thread(target=self.shutdown, daemon=True).start()
        elif self.stopped.is_set():
            self.send(client, "/readdsp/error", request_id, "the engine is stopping")
        else:
            try:
                self.jobs.put_nowait(Job(command, request_id, params, client))
            except queue.Full:
                log.warning("%s %s refused: %d jobs queued", command, request_id, MAX_QUEUED_JOBS)
                self.send(client, "/readdsp/error", request_id, f"busy: {MAX_QUEUED_JOBS} jobs queued; try later")
                return
            self.send(client, "/readdsp/accepted", request_id)

    def _parse(self, command: str, args: tuple) -> tuple[str, tuple]:
        """The request id and the job's checked arguments; ValueError says what is wrong."""
        if not args or not isinstance(args[0], str):
            raise ValueError("the first argument must be a request id string")
        request_id, rest = args[0], args[1:]
        if len(request_id) > MAX_ID_CHARS:
            raise ValueError(f"the request id is longer than {MAX_ID_CHARS} characters")
        if command in ("item", "store_expression", "render_item", "humanize_notes"):
            if not rest or not isinstance(rest[0], str) or not 0 < len(rest[0]) <= 64:
                raise ValueError("expected a take GUID after the request id")
            if command == "item" and len(rest) > 1:
                raise ValueError("expected: id take")
            if command in ("store_expression", "humanize_notes"):
                if len(rest) != 2 or not isinstance(rest[1], str) or not 0 < len(rest[1]) <= MAX_PATH_CHARS:
                    raise ValueError("expected: id take expression_file")
                return request_id, tuple(rest)
            if command == "render_item":
                return request_id, (rest[0], *self._parse("render", (request_id, *rest[1:]))[1])
            return request_id, tuple(rest)
        if command == "render":
            if len(rest) > 2:
                raise ValueError("expected: id [instrument] [seed]")
            instrument = rest[0] if rest else ""
            seed = rest[1] if len(rest) > 1 else -1
            if not isinstance(instrument, str) or isinstance(seed, bool) or not isinstance(seed, int):
                raise ValueError("instrument must be a string and seed an integer")
            available = self.renderer.instruments
            if instrument and available and instrument not in available:
                raise ValueError(f"unknown instrument {instrument[:60]!r}; expected one of {', '.join(available)}")
            return request_id, (instrument, seed)
        if command == "humanize":
            amount = rest[0] if rest else 1.0
            seed = rest[1] if len(rest) > 1 else 0
            if len(rest) > 2 or isinstance(amount, bool) or not isinstance(amount, (int, float)):
                raise ValueError("expected: id [amount 0..1] [seed]")
            if not 0.0 <= amount <= 1.0 or isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
                raise ValueError("amount must lie in 0..1 and seed be a whole number >= 0")
            return request_id, (float(amount), seed)
        if command == "effect_dataset":
            if len(rest) > 1 or (rest and not isinstance(rest[0], str)):
                raise ValueError("expected: id [output_dir]")
            if rest and (len(rest[0]) > MAX_PATH_CHARS or "\0" in rest[0] or Path(rest[0]).is_file()):
                raise ValueError("output_dir must be a folder path")
            return request_id, tuple(rest)
        if rest:
            raise ValueError(f"expected only a request id, got {len(args)} arguments")
        return request_id, ()

    # --- work ----------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            self.state = job.command
            started = time.perf_counter()
            try:
                summary = self._run(job)
                summary["seconds"] = round(time.perf_counter() - started, 3)
                if job.command != "selected":  # polls log themselves (_selected)
                    log.info("%s %s done: %s", job.command, job.request_id, summary)
                # REAPER is told first, so that when the reply arrives the engine no longer talks to REAPER
                if job.command not in QUIET:
                    self._tell_reaper(summary_text(job.command, summary))
                self.send(job.reply_to, "/readdsp/done", job.request_id, json.dumps(summary))
            except ReaDDSPError as err:
                log.warning("%s %s failed: %s", job.command, job.request_id, err)
                if job.command not in QUIET:
                    self._tell_reaper(f"ReaDDSP {job.command} failed: {err}")
                self.send(job.reply_to, "/readdsp/error", job.request_id, str(err))
            except Exception as err:  # a bug must not kill the engine; it is logged with its traceback
                log.exception("%s %s crashed", job.command, job.request_id)
                self.send(job.reply_to, "/readdsp/error", job.request_id, f"internal error: {err!r}")
            finally:
                self.done += 1
                self.state = "idle"

    def _tell_reaper(self, text: str) -> None:
        try:
            self.bridge.show_message(text)
        except ReaDDSPError as err:
            log.info("cannot show the result in REAPER: %s", err)

    def _run(self, job: Job) -> dict:
        if job.command == "render":
            return self.render_selected(*job.args, progress=self._progress(job))
        if job.command == "render_item":
            return self.render_take(*job.args, progress=self._progress(job))
        if job.command == "selected":
            return self._selected()
        if job.command == "item":
            item, _, _ = self.bridge.read_take(job.args[0], with_bars=True)
            document = item_document(job.args[0], item.name, item.length, item.ext, item.performance, item.bars)
            return {"file": str(write_item_file(self.temp_dir, document, TEMP_PREFIX + "item-")), "name": item.name}
        if job.command == "store_expression":
            return self._store_expression(*job.args)
        if job.command == "humanize_notes":
            return self._humanize_notes(*job.args)
        if job.command == "humanize":
            return self.bridge.add_midi_takes(humanize_edit(*job.args), "ReaDDSP: humanize selected MIDI items")
        if job.command == "restore":
            return {"restored": len(self.bridge.restore_midi_takes())}
        if job.command == "effect_dataset":
            if self.effect_dataset is None:
                raise ReaDDSPError("the effect dataset builder is not available in this engine")
            return self.effect_dataset(self.bridge, job.args[0] if job.args else "")
        raise ReaDDSPError(f"unknown job {job.command}")

    def _progress(self, job: Job) -> Callable[[float, float], None]:
        last = [0.0]

        def report(done: float, total: float) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.25 or done >= total:
                last[0] = now
                self.send(job.reply_to, "/readdsp/progress", job.request_id, float(done), float(total))

        return report

    def _selected(self) -> dict:
        guid, name = self.bridge.selected_midi_take()
        self._polls += 1
        if guid != self._polled or self._polls % POLL_LOG_EVERY == 0:
            log.info("selection poll %d: %s", self._polls, f"take {guid} ({name})" if guid else "no MIDI take selected")
            self._polled = guid
        return {"take": guid, "name": name}

    def _humanize_notes(self, take: str, path: str) -> dict:
        rows, expression = read_notes_file(Path(path))
        if expression:
            parse_expression_text(expression, path)  # checked before it reaches the project
        return self.bridge.add_midi_take_with_notes(
            take, rows, notes_edit(expression or None), "ReaDDSP: humanize MIDI item (expression panel)"
        )

    def _store_expression(self, take: str, path: str) -> dict:
        file = Path(path)
        try:
            if file.stat().st_size > MAX_FILE_BYTES:
                raise ReaDDSPError(f"over {MAX_FILE_BYTES} bytes", file)
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ReaDDSPError(f"cannot read the expression file ({err})", file) from None
        rows, _ = parse_expression_text(text, str(file))  # checked before it reaches the project
        compact = json.dumps(json.loads(text), separators=(",", ":"))
        self.bridge.store_take_data(take, {"expression": compact}, "ReaDDSP: edit expression")
        return {"take": take, "rows": len(rows)}

    def render_take(
        self, take: str, instrument: str = "", seed: int = -1, progress: Callable[[float, float], None] | None = None
    ) -> dict:
        """Render one MIDI take (by GUID, as the panel names it) into a new active take of its item."""
        item, sample_rate, media_folder = self.bridge.read_take(take)
        if item.performance.n_notes == 0:
            raise ReaDDSPError(f"{item.name}: no notes to render")
        undo = "ReaDDSP: render MIDI item (expression panel)"
        return self._render_items([item], [], 0, sample_rate, media_folder, instrument, seed, progress, undo)

    def render_selected(
        self, instrument: str = "", seed: int = -1, progress: Callable[[float, float], None] | None = None
    ) -> dict:
        """Render every selected MIDI item into a new active take; all or nothing."""
        selection = self.bridge.read_selected()
        if not selection.midi_items:
            return {"takes": [], "muted": selection.muted, "messages": selection.messages or ["no MIDI items selected"]}
        return self._render_items(
            selection.midi_items,
            selection.messages,
            selection.muted,
            selection.sample_rate,
            selection.media_folder,
            instrument,
            seed,
            progress,
            "ReaDDSP: render selected MIDI items",
        )

    def _render_items(
        self,
        midi_items: list[MidiItem],
        messages: list[str],
        muted: int,
        sample_rate: int,
        media_folder: Path,
        instrument: str,
        seed: int,
        progress: Callable[[float, float], None] | None,
        undo_name: str,
    ) -> dict:
        rendered = []
        try:
            for index, item in enumerate(midi_items):
                chosen = instrument or item.ext.get("instrument") or None
                item_seed = seed if seed >= 0 else int(item.ext.get("seed", "0") or 0)
                messages = messages + apply_saved_expression(item.performance, item.ext, item.name)
                job = RenderJob(item.name, item.length, item.performance, chosen, item_seed)

                def item_progress(done: float, total: float, index: int = index) -> None:
                    if progress and total > 0:
                        progress(index + done / total, len(midi_items))

                rendered.append(render_job(self.renderer, job, sample_rate, self.temp_dir, item_progress))
                messages = messages + rendered[-1].warnings
            placed = place_wavs(rendered, media_folder)
        except BaseException:
            remove_files([r.temp_wav for r in rendered])
            raise
        takes = [
            (
                item.item,
                wav,
                f"ReaDDSP: {r.label}",
                {"instrument": r.label, "seed": str(r.job.seed), "source_take": item.take_guid},
            )
            for item, r, wav in zip(midi_items, rendered, placed, strict=True)
        ]
        try:
            self.bridge.add_audio_takes(takes, undo_name)
        except BaseException:
            remove_files(placed)
            raise
        if progress:
            progress(len(takes), len(takes))
        return {
            "takes": [{"item": t[2], "file": str(t[1])} for t in takes],
            "muted": muted,
            "messages": messages,
        }


def _drain(jobs: queue.Queue) -> list[Job]:
    """Empty the queue: the jobs that will not run because the engine stops (logged)."""
    left: list[Job] = []
    while True:
        try:
            job = jobs.get_nowait()
        except queue.Empty:
            break
        if job is not None:
            left.append(job)
    if left:
        log.info("engine stopping: %d queued job(s) not run", len(left))
    return left


def summary_text(command: str, summary: dict) -> str:
    """One console line per result, for REAPER's ReaScript console."""
    lines = [
        f"ReaDDSP {command}: " + ", ".join(f"{k}={v}" for k, v in summary.items() if k not in ("takes", "messages"))
    ]
    lines += [f"  new take {t['item']} -> {t.get('file') or t.get('take')}" for t in summary.get("takes", [])]
    lines += [f"  {m}" for m in summary.get("messages", [])]
    return "\n".join(lines)
