"""Render a MIDI file to mono audio with the FluidSynth command-line synthesizer, guarded against hangs."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from readdsp.core.errors import ReaDDSPError

#: Soundfonts known by name (Debian packages `fluid-soundfont-gm` and `musescore-general-soundfont*`).
SOUNDFONTS: dict[str, tuple[str, ...]] = {
    "fluidr3": ("/usr/share/sounds/sf2/FluidR3_GM.sf2",),
    "musescore": (
        "/usr/share/sounds/sf2/MuseScore_General_Full.sf2",  # musescore-general-soundfont-lossless: loads in 0.3 s
        "/usr/share/sounds/sf3/MuseScore_General.sf3",
        "/usr/share/sounds/sf3/MuseScore_General_Full.sf3",
        "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",
        "/usr/share/sounds/sf2/MuseScore_General.sf2",
    ),
}
DEFAULT_SOUNDFONT = "fluidr3"
#: FluidSynth's master gain (its default, 0.2, leaves solo lines around -35 dBFS RMS).
GAIN = 1.0
#: Release tail FluidSynth may add after the last note-off before we call the output too long.
MAX_TAIL_SECONDS = 20.0


def fluidsynth_binary() -> str:
    """Path of the `fluidsynth` executable, or a ReaDDSPError saying how to install it."""
    found = shutil.which("fluidsynth")
    if found is None:
        raise ReaDDSPError("the fluidsynth program is not installed (Debian: apt-get install fluidsynth)")
    return found


def resolve_soundfont(name_or_path: str) -> Path:
    """A soundfont file from a known name ('fluidr3', 'musescore') or a path to an .sf2/.sf3 file."""
    candidates = SOUNDFONTS.get(name_or_path.lower(), (name_or_path,))
    for candidate in candidates:
        path = Path(candidate).expanduser()
        if path.is_file():
            return path.resolve()
    if name_or_path.lower() in SOUNDFONTS:
        package = "fluid-soundfont-gm" if name_or_path.lower() == "fluidr3" else "musescore-general-soundfont"
        raise ReaDDSPError(f"soundfont not installed (Debian: apt-get install {package})", candidates[0])
    raise ReaDDSPError("soundfont file not found", name_or_path)


def render_midi(
    midi_path: str | Path,
    soundfont: str | Path,
    sample_rate: int,
    midi_seconds: float,
    timeout_s: float | None = None,
) -> np.ndarray:
    """Render `midi_path` with FluidSynth (reverb and chorus off) and return float32 mono audio.

    FluidSynth can run forever on a stuck note with a sustaining preset, so it runs with a wall-clock
    timeout and is killed as soon as its output file grows past `midi_seconds + MAX_TAIL_SECONDS`.
    The rendered length must cover `midi_seconds`; anything else raises ReaDDSPError.
    """
    binary = fluidsynth_binary()
    timeout_s = timeout_s if timeout_s is not None else 30.0 + 2.0 * midi_seconds
    max_bytes = int((midi_seconds + MAX_TAIL_SECONDS) * sample_rate * 2 * 4) + 4096  # stereo float32 + header
    with tempfile.TemporaryDirectory(prefix="readdsp-fluidsynth-") as tmp:
        wav_path = Path(tmp) / "out.wav"
        command = [binary, "-ni", "-q", "-R", "0", "-C", "0", "-g", str(GAIN), "-r", str(int(sample_rate))]
        command += ["-O", "float", "-T", "wav", "-F", str(wav_path), str(soundfont), str(midi_path)]
        _run_capped(command, wav_path, max_bytes, timeout_s, midi_path)
        try:
            audio, rendered_rate = sf.read(wav_path, dtype="float32", always_2d=True)
        except (RuntimeError, sf.LibsndfileError) as err:
            raise ReaDDSPError(f"FluidSynth wrote an unreadable file ({err})", midi_path) from err
    if rendered_rate != sample_rate:
        raise ReaDDSPError(f"FluidSynth rendered at {rendered_rate} Hz instead of {sample_rate} Hz", midi_path)
    mono = audio.mean(axis=1)
    if len(mono) < int(midi_seconds * sample_rate):
        raise ReaDDSPError(
            f"output ({len(mono) / sample_rate:.2f} s) is shorter than the MIDI ({midi_seconds:.2f} s)",
            midi_path,
        )
    return np.ascontiguousarray(mono, dtype=np.float32)


def _run_capped(command: list[str], wav_path: Path, max_bytes: int, timeout_s: float, midi_path: str | Path) -> None:
    """Run FluidSynth, killing it on timeout or when its output exceeds `max_bytes`."""
    started = time.monotonic()
    with open(os.devnull, "wb") as devnull:
        process = subprocess.Popen(command, stdout=devnull, stderr=subprocess.PIPE)
        try:
            while process.poll() is None:
                if wav_path.exists() and wav_path.stat().st_size > max_bytes:
                    raise ReaDDSPError("FluidSynth output grew past the MIDI length (stuck note?); killed", midi_path)
                if time.monotonic() - started > timeout_s:
                    raise ReaDDSPError(f"FluidSynth did not finish within {timeout_s:.0f} s; killed", midi_path)
                time.sleep(0.02)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if process.stderr:
            process.stderr.close()
    if process.returncode != 0 or not wav_path.exists():
        detail = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {process.returncode}"
        raise ReaDDSPError(f"FluidSynth failed: {detail}", midi_path)
    if wav_path.stat().st_size > max_bytes:
        raise ReaDDSPError("FluidSynth output is longer than the MIDI plus its release tail", midi_path)
