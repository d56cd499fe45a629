"""Issue 12's audio-domain evaluation of a bundle in one call: calibration, audio checks and real recordings."""

from __future__ import annotations

from pathlib import Path

from readdsp.core.bundle import Bundle, calibration_gains_db, require_family, write_sidecar
from readdsp.core.errors import ReaDDSPError
from readdsp.core.render import Renderer, model_for
from readdsp.training import audio_checks, calibration, held_notes, real_recordings, vibrato_fit
from readdsp.training.reference_renders import soundfont_label, source_soundfont


def measure_audio(
    bundle: Bundle,
    checks: bool = True,
    calibrate: bool = False,
    real_recordings_dir: Path | None = None,
    seed: int = 0,
    vibrato_from: Path | None = None,
    real_phrases_dir: Path | None = None,
) -> dict:
    """Measure a bundle on audio alone (no dataset needed). With `vibrato_from` (a dataset of real players' notes),
    each of its instruments' factor on the generated vibrato is fitted first and written to the sidecar
    ("vibrato_scale"). With `calibrate`, the per-instrument gains are measured next and written to the sidecar
    ("calibration"), and everything after renders with them; otherwise the sidecar's factors and gains apply.
    With `real_phrases_dir`, real phrase recordings of the user's (`real_recordings.phrase_recordings`) are compared.
    Returns {"vibrato_fit", "calibration", "audio_checks", "held_notes", "real_recordings", "real_phrases"} for those
    asked."""
    model = model_for(bundle)
    source = source_soundfont(bundle.config)
    gains = calibration_gains_db(bundle)
    metrics: dict = {}
    if vibrato_from is not None:
        require_family(bundle, "midi-ddsp", "fitting vibrato factors (an Expression Generator's vibrato)")
        kept = model.vibrato_scale  # the sidecar's, as loaded: instruments the dataset lacks keep theirs
        model.vibrato_scale = {}
        fitted = vibrato_fit.fit_vibrato_scales(Renderer(model, bundle.path, gains), vibrato_from, seed)
        if not fitted:
            raise ReaDDSPError("holds notes of none of the bundle's instruments", Path(vibrato_from))
        model.vibrato_scale = kept | {name: row["scale"] for name, row in fitted.items()}
        write_sidecar(bundle.path, {"vibrato_scale": model.vibrato_scale})
        metrics["vibrato_fit"] = {"dataset": str(Path(vibrato_from).resolve()), "instruments": fitted}
    if calibrate:
        result = calibration.calibrate(Renderer(model, bundle.path), seed, source)
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
    if real_phrases_dir is not None:
        phrases = real_recordings.phrase_recordings(real_phrases_dir)
        metrics["real_phrases"] = real_recordings.compare_recordings(renderer, phrases, seed) | {
            "folder": str(Path(real_phrases_dir).resolve())
        }
    return metrics
