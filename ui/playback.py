"""Audio playback through sounddevice when an output device exists; a clear 'no audio device' otherwise."""

from __future__ import annotations

import numpy as np


class Player:
    """Plays one buffer at a time; `available` is False (with `reason`) where there is no device or PortAudio."""

    def __init__(self) -> None:
        self.reason = ""
        try:
            import sounddevice

            sounddevice.query_devices(kind="output")
            self._sd = sounddevice
        except Exception as err:  # noqa: BLE001 - OSError without PortAudio, PortAudioError without a device
            self._sd = None
            self.reason = f"no audio device ({str(err).splitlines()[0] if str(err) else type(err).__name__})"

    @property
    def available(self) -> bool:
        return self._sd is not None

    def play(self, audio: np.ndarray, sample_rate: int, start_s: float = 0.0) -> bool:
        if self._sd is None:
            return False
        self._sd.stop()
        self._sd.play(np.asarray(audio[int(start_s * sample_rate) :], np.float32), sample_rate)
        return True

    def stop(self) -> None:
        if self._sd is not None:
            self._sd.stop()
