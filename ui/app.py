"""Opens the panel on a MIDI file: standalone window, or offscreen render-and-screenshot."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from readdsp.core.bundle import resolve_bundle
from readdsp.core.midi_io import read_midi, require_notes

SCREENSHOT_SIZE = (1400, 900)
SCREENSHOT_TIMEOUT_MS = 600_000


def open_panel(
    midi: Path,
    bundle: str | None = None,
    output: Path | None = None,
    stems: Path | None = None,
    settings=None,
    expression: Path | None = None,
):
    """The PanelWindow for `midi` (a QApplication must exist): edits in its sidecar (first read from `expression`
    if given), renders to `output`."""
    from readdsp.ui.instruments import installed_instruments
    from readdsp.ui.main_window import PanelWindow
    from readdsp.ui.render_backend import LocalRenderBackend
    from readdsp.ui.sidecar import sidecar_path

    performance = require_notes(read_midi(midi), midi)
    first = resolve_bundle(bundle)
    backends: dict[Path, LocalRenderBackend] = {}

    def backend_for(path: Path) -> LocalRenderBackend:
        if path not in backends:
            backends[path] = LocalRenderBackend(path)
        return backends[path]

    output = output or midi.with_name(midi.stem + ".readdsp.wav")
    choices = installed_instruments([first])
    return PanelWindow(performance, backend_for, choices, sidecar_path(midi), output, stems, settings, expression)


def open_connected(
    port: int, take: str | None = None, bundle: str | None = None, settings=None, client=None, backends=None
):
    """The PanelWindow on a REAPER MIDI take (default: the selected one) through the engine on 127.0.0.1:`port`.
    Edits go to the take's P_EXT; the local renderer still gives the quick preview."""
    from readdsp.ui.engine_client import EngineClient
    from readdsp.ui.instruments import installed_instruments
    from readdsp.ui.main_window import PanelWindow
    from readdsp.ui.reaper_link import ReaperLink, fetch_item
    from readdsp.ui.render_backend import LocalRenderBackend

    client = client or EngineClient(port)
    item = fetch_item(client, take)
    if item.performance.n_notes == 0:
        from readdsp.core.errors import ReaDDSPError

        raise ReaDDSPError(f"{item.name}: no notes to edit")
    first = resolve_bundle(bundle)
    loaded: dict[Path, LocalRenderBackend] = {} if backends is None else backends  # kept across followed items

    def backend_for(path: Path) -> LocalRenderBackend:
        if path not in loaded:
            loaded[path] = LocalRenderBackend(path)
        return loaded[path]

    link = ReaperLink(client, item)
    return PanelWindow(item.performance, backend_for, installed_instruments([first]), settings=settings, link=link)


def run_connected(port: int, bundle: str | None) -> int:
    """The connected panel as its own process (what the REAPER action starts); follows the selection if asked."""
    from PyQt5.QtCore import Qt

    from readdsp.core.errors import ReaDDSPError
    from readdsp.ui.engine_client import EngineClient

    app = application()
    client, backends = EngineClient(port), {}
    try:
        windows = [open_connected(port, bundle=bundle, client=client, backends=backends)]
    except ReaDDSPError as err:  # started by the REAPER action, nobody reads stderr: say it in a window too
        from PyQt5.QtWidgets import QMessageBox

        QMessageBox.warning(None, "ReaDDSP expression panel", str(err))
        raise

    def follow(take: str, keep_following: bool = True) -> None:
        old = windows[-1]
        try:
            new = open_connected(port, take, bundle, client=client, backends=backends)
        except ReaDDSPError as err:
            old.say(f"cannot open the selected item: {err}")
            return
        new.setGeometry(old.geometry())
        new.follow.setChecked(keep_following)
        new.show()
        old.close()
        windows[:] = [new]
        connect(new)

    def reopen(take: str) -> None:  # the panel's humanized notes became this take
        follow(take, windows[-1].follow.isChecked())

    def connect(window) -> None:
        # queued: the old window (and its link) goes when `follow` returns, from the event loop, not inside its signal
        window.link.take_selected.connect(follow, Qt.QueuedConnection)
        window.link.take_replaced.connect(reopen, Qt.QueuedConnection)

    connect(windows[0])
    windows[0].show()
    return app.exec_()


def application():
    """The QApplication, created once, with the dark theme."""
    from PyQt5.QtWidgets import QApplication

    from readdsp.ui.theme import apply_dark_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ReaDDSP expression panel")
    apply_dark_theme(app)
    return app


def run_panel(
    midi: Path, bundle: str | None, output: Path | None, stems: Path | None, expression: Path | None = None
) -> int:
    app = application()
    window = open_panel(midi, bundle, output, stems, expression=expression)
    window.show()
    return app.exec_()


def screenshot(
    midi: Path, bundle: str | None, png: Path, output: Path | None = None, expression: Path | None = None
) -> Path:
    """Open the panel offscreen, render, select the first notes (to show their curves), save a PNG and close."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtCore import QEventLoop, QSettings, QTimer

    from readdsp.core.atomic import atomic_path
    from readdsp.core.errors import ReaDDSPError

    app = application()
    settings = QSettings(str(png.with_suffix(".ini")), QSettings.IniFormat)  # never the user's saved layout
    window = open_panel(midi, bundle, output, None, settings, expression)
    window.output = output  # a screenshot writes a WAV only when asked to
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    app.processEvents()
    window.fit()
    loop = QEventLoop()
    failures: list[str] = []
    window.worker.finished.connect(loop.quit)
    window.worker.failed.connect(lambda message: (failures.append(message), loop.quit()))
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, loop.quit)
    window.render()
    loop.exec_()
    if failures:
        raise ReaDDSPError(failures[0])
    window.document.set_selection(set(range(min(4, len(window.document.notes)))))
    app.processEvents()
    with atomic_path(png, ".png") as tmp:
        if not window.grab().save(str(tmp), "PNG"):
            raise ReaDDSPError("could not write the screenshot", png)
    window.sidecar = None  # a screenshot never writes the user's sidecar
    window.close()
    settings.sync()  # written now, so that nothing writes it again after it is removed
    settings_file = png.with_suffix(".ini")
    if settings_file.exists():
        settings_file.unlink()
    return png
