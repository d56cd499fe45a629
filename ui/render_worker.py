"""Runs renders on a QThread so the UI thread never waits for the model."""

from __future__ import annotations

import copy
import traceback

from PyQt5.QtCore import QObject, QThread, pyqtSignal, pyqtSlot

from readdsp.core.curve_overrides import CurveOverrides
from readdsp.core.errors import ReaDDSPError
from readdsp.core.render import RenderPlan
from readdsp.ui.render_backend import RenderBackend


class _Job(QObject):
    progress = pyqtSignal(int, int)
    finished = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, backend: RenderBackend, plan: RenderPlan, seed: int, curves: CurveOverrides):
        super().__init__()
        # the UI keeps editing its own plan while this one renders
        self.backend, self.plan, self.seed, self.curves = backend, copy.deepcopy(plan), seed, copy.deepcopy(curves)

    @pyqtSlot()
    def run(self) -> None:
        try:
            done = self.backend.render(
                self.plan, self.seed, self.curves, lambda d, t: self.progress.emit(int(d), int(t))
            )
        except ReaDDSPError as err:
            self.failed.emit(str(err))
        except Exception as err:  # noqa: BLE001 - any failure must reach the status line, not kill the thread
            traceback.print_exc()
            self.failed.emit(f"render failed: {err}")
        else:
            self.finished.emit(done)


class RenderWorker(QObject):
    """Starts one render at a time; `finished(PanelRender)`, `failed(message)`, `progress(done, total)`."""

    progress = pyqtSignal(int, int)
    finished = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, backend: RenderBackend, parent: QObject | None = None):
        super().__init__(parent)
        self.backend = backend
        self._thread: QThread | None = None
        self._job: _Job | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, plan: RenderPlan, seed: int, curves: CurveOverrides) -> bool:
        if self.busy:
            return False
        self._thread = QThread()
        self._job = _Job(self.backend, plan, seed, curves)
        self._job.moveToThread(self._thread)
        self._thread.started.connect(self._job.run)
        self._job.progress.connect(self.progress)
        self._job.finished.connect(self._done)
        self._job.failed.connect(self._failed)
        self._thread.start()
        return True

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
        self._thread, self._job = None, None

    def _done(self, result: object) -> None:
        self._stop_thread()
        self.finished.emit(result)

    def _failed(self, message: str) -> None:
        self._stop_thread()
        self.failed.emit(message)
