"""Evaluate a style-DDSP bundle and write its metrics (into the sidecar, never the weights) and its model card.

python -m readdsp.training.style_card BUNDLE.safetensors DATASET --card BUNDLE.md [--guitar-notes DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from readdsp.core.atomic import write_bytes
from readdsp.core.bundle import Bundle, calibration_gains_db, load_bundle, write_sidecar
from readdsp.core.levels import CALIBRATION_VELOCITY, REFERENCE_LUFS
from readdsp.core.render import Renderer
from readdsp.training import style_evaluate as ev
from readdsp.training.model_card_audio import audio_check_lines

OPEN_PROGRAM, MUTED_PROGRAM = 26, 28


def evaluate(bundle: Path, dataset: Path, guitar_notes: Path | None) -> dict:
    renderer = Renderer.load(bundle)
    instrument = renderer.instruments[0]
    controller = renderer.model.style_ccs[0].number
    began = time.perf_counter()
    metrics = {
        "cc_sweep": ev.cc_sweep(renderer, dataset, controller, instrument),
        "training_audio_proxy": ev.training_proxy(dataset, controller),
        "velocity": ev.velocity_response(renderer, instrument, controller, {0: MUTED_PROGRAM, 127: OPEN_PROGRAM}),
        "audio_checks": ev.audio_checks_style(renderer, instrument, controller, {127: OPEN_PROGRAM, 0: MUTED_PROGRAM}),
    }
    if guitar_notes is not None and guitar_notes.is_dir():
        metrics["real_guitar_notes"] = ev.real_note_distance(
            renderer, instrument, controller, guitar_notes, OPEN_PROGRAM
        )
    metrics["evaluation_seconds"] = round(time.perf_counter() - began, 1)
    return metrics


def _meets(value: float | None, target: float) -> str:
    return "not measured" if value is None else ("met" if value >= target else "NOT met")


def _level_lines(gains_db: dict[str, float]) -> list[str]:
    """The calibration gain the render applies (the audio checks below are measured with it)."""
    if not gains_db:
        return ["- **Level.** Not calibrated: `readdsp audio-check BUNDLE --calibrate` measures the gain."]
    gains = ", ".join(f"{name} {gain:+.2f} dB" for name, gain in gains_db.items())
    return [
        f"- **Level.** Calibration gain {gains} (the bundle's sidecar, from `readdsp audio-check "
        f"core/bundles/guitar.safetensors --calibrate --no-phrases`): a sustained note at velocity "
        f"{CALIBRATION_VELOCITY} measures {REFERENCE_LUFS:.0f} LUFS, the documented level (`core/levels.py`). "
        "The audio checks below are measured with it."
    ]


def card_text(bundle: Bundle, metrics: dict) -> str:
    config = bundle.config
    sweep, train, vel = metrics["cc_sweep"], metrics["training_audio_proxy"], metrics["velocity"]
    ccs = ", ".join(
        f"CC{c['number']} {c['display']} (default {c['default']}: {c['meaning']})" for c in config["style_ccs"]
    )
    training = config.get("training", {})
    lines = [
        f"# {bundle.path.stem}: style-DDSP {', '.join(config['instruments'])}",
        "",
        f"Model family `style-ddsp` ({config['sample_rate']} Hz, dry): a causal dilated-conv decoder "
        f"({config['decoder']['hidden']} channels, dilations {config['decoder']['dilations']}) driven by MIDI frames "
        f"({', '.join(config['inputs'])}), {config['decoder']['n_harmonics']} harmonics and "
        f"{config['decoder']['n_noise_bands']} noise bands. Style CCs: {ccs}.",
        "",
        "## Data and training",
        "- A generated REAPER project (`python -m readdsp.scripts.make_guitar_project data_cache/guitar_project "
        "--minutes 12 --seed 0`): FluidSynth (MuseScore_General) renders of Bach chorale chords and lines (music21 "
        f"corpus), CC55 = 0 on the muted guitar (GM {MUTED_PROGRAM}), CC55 = 127 on the open jazz guitar "
        f"(GM {OPEN_PROGRAM}), velocities over 25-125 per phrase.",
        '- Dataset: `readdsp dataset from-project data_cache/guitar_project/guitar.RPP --audio-track "Guitar DI" '
        "--midi-track Annotation -o data_cache/guitar_ds --no-f0`.",
        f"- Training: `readdsp train style-ddsp data_cache/guitar_ds --run-dir runs/guitar --threads 1 ...`: "
        f"{training.get('steps')} steps in {training.get('wall_time_s')} s on one busy CPU core.",
        "- Licence: the weights are the project's; the training audio is MuseScore_General (MIT) renders of public-"
        "domain chorales.",
        "",
        "## Measured (`python -m readdsp.training.style_card core/bundles/guitar.safetensors data_cache/guitar_ds "
        f"--card core/bundles/guitar.md`, {metrics.get('evaluation_seconds')} s)",
        "- **CC55 acts as in the data.** Openness proxy = the sustain ratio: the level 270-300 ms after each onset "
        "group (or just before its first note-off or the next onset) minus its onset peak, dB, median over the "
        f"phrase. Held-out phrases ({sweep['phrases']}) swept over CC55 {sweep['values']}: median r per phrase "
        f"**{sweep['median_r_per_phrase']}** (min {sweep['min_r_per_phrase']}; {sweep['phrases_r_at_least_0_8']} "
        f"of {sweep['phrases']} phrases >= 0.8), pooled r {sweep['pooled_r']}, pooled within phrases "
        f"{sweep['pooled_within_phrase_r']}. Proxy median per CC value (dB): {sweep['proxy_median_per_value_db']}. "
        f"Target r >= 0.8 per phrase: {_meets(sweep['median_r_per_phrase'], 0.8)}. The earlier proxy, the "
        f"high-band energy ratio above {ev.HIGH_BAND_HZ:.0f} Hz, gives a median r per phrase of "
        f"{sweep['high_band_median_r_per_phrase']} on the same renders.",
        f"- Same proxy on the training audio ({train['onset_groups']} onset groups, against the CC55 value at the "
        f"onset): r {train['r']}; median {train.get('median_closed_db')} dB at CC55 = 0 (GM {MUTED_PROGRAM}), "
        f"{train.get('median_open_db')} dB at 127 (GM {OPEN_PROGRAM}); the midpoint threshold separates "
        f"{train.get('share_separated_by_midpoint')} of the groups.",
        f"- **Velocity acts as in the data.** {vel['notes']} isolated notes: r(velocity, peak loudness) = "
        f"**{vel['r_ours']}** (soundfont {vel['r_soundfont']}); loudness range {vel['loudness_range_db_ours']} dB "
        f"(soundfont {vel['loudness_range_db_soundfont']} dB). Target r >= 0.8: {_meets(vel['r_ours'], 0.8)}.",
    ]
    if "real_guitar_notes" in metrics:
        lines += [
            "- **Real guitar notes** (`../shared/data/guitar-notes`; spectral-envelope distance, dB, lower is "
            "closer; same pitch, a 1.2-s note at CC55 = 127):"
        ]
        for folder, row in metrics["real_guitar_notes"].items():
            lines.append(
                f"  - {folder} ({row.get('notes')} notes): ours {row.get('ours_db')}, soundfont "
                f"(MuseScore_General GM {OPEN_PROGRAM}) {row.get('soundfont_db')}"
            )
    lines += _level_lines(calibration_gains_db(bundle))
    lines += ["", *audio_check_lines(metrics["audio_checks"])]
    lines += ["Speed: `bench/bench_style_ddsp.py` (figures in its output, not here).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--card", type=Path, required=True)
    parser.add_argument("--guitar-notes", type=Path, default=Path("../shared/data/guitar-notes"))
    args = parser.parse_args(argv)
    metrics = evaluate(args.bundle, args.dataset, args.guitar_notes)
    write_sidecar(args.bundle, {"metrics": metrics})
    write_bytes(args.card, card_text(load_bundle(args.bundle), metrics).encode("utf-8"))
    print(json.dumps(metrics, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
