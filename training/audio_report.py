"""Issue 12's audio-domain evaluation of a bundle in one call: calibration, audio checks and real recordings."""

from __future__ import annotations

from pathlib import Path

from readdsp.core.bundle import Bundle, calibration_gains_db, write_sidecar
from readdsp.core.render import Renderer, model_for
from readdsp.training import audio_checks, calibration, held_notes, real_recordings
from readdsp.training.reference_renders import soundfont_label, source_soundfont


def measure_audio(
    bundle: Bundle,
    checks: bool = True,
    calibrate: bool = False,
    real_recordings_dir: Path | None = None,
    seed: int = 0,
) -> dict:
    """Measure a bundle on audio alone (no dataset needed). With `calibrate`, the per-instrument gains are measured
    first and written to the bundle's sidecar ("calibration"), and everything after renders with them; otherwise
    the sidecar's gains apply. Returns {"calibration", "audio_checks", "held_notes", "real_recordings"} for those
    asked."""
    model = model_for(bundle)
    source = source_soundfont(bundle.config)
    gains = calibration_gains_db(bundle)
    metrics: dict = {}
    if calibrate:
        result = calibration.calibrate(Renderer(model, bundle.path), seed)
        gains = result["gains_db"]
        write_sidecar(bundle.path, {"calibration": gains})
        renderer = Renderer(model, bundle.path, gains)
        metrics["calibration"] = result | {
            "dynamics": calibration.dynamics(renderer, source, seed),
            "volume_saturation": calibration.volume_saturation(renderer, calibration.real_pieces()),
            "source_soundfont": soundfont_label(source),
        }
    renderer = Renderer(model, bundle.path, gains)
    if checks:
        metrics["audio_checks"] = audio_checks.check_bundle(renderer, source, seed)
        metrics["held_notes"] = held_notes.held_notes(renderer, source, seed)
    if real_recordings_dir is not None:
        metrics["real_recordings"] = real_recordings.compare_with_recordings(renderer, real_recordings_dir, seed)
    return metrics
