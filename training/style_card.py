"""Evaluate a style-DDSP bundle and write its metrics (into the sidecar, never the weights) and its model card.

python -m readdsp.training.style_card BUNDLE.safetensors DATASET --card BUNDLE.md [--guitar-notes DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from readdsp.core.atomic import write_bytes
from readdsp.core.bundle import load_bundle, write_sidecar
from readdsp.core.render import Renderer
from readdsp.training import style_evaluate as ev

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
        "audio_checks": ev.audio_check_line(renderer, instrument, controller),
    }
    if guitar_notes is not None and guitar_notes.is_dir():
        metrics["real_guitar_notes"] = ev.real_note_distance(
            renderer, instrument, controller, guitar_notes, OPEN_PROGRAM
        )
    metrics["evaluation_seconds"] = round(time.perf_counter() - began, 1)
    return metrics


def card_text(bundle: Path, metrics: dict, config: dict) -> str:
    sweep, train, vel = metrics["cc_sweep"], metrics["training_audio_proxy"], metrics["velocity"]
    ccs = ", ".join(
        f"CC{c['number']} {c['display']} (default {c['default']}: {c['meaning']})" for c in config["style_ccs"]
    )
    training = config.get("training", {})
    lines = [
        f"# {bundle.stem}: style-DDSP {', '.join(config['instruments'])}",
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
        "",
        "## Measured (training/style_card.py)",
        f"- **CC55 acts as in the data.** Openness proxy = high-band energy ratio above {ev.HIGH_BAND_HZ:.0f} Hz (dB). "
        f"Held-out phrases ({sweep['phrases']}) swept over CC55 {sweep['values']}: median r per phrase "
        f"{sweep['median_r_per_phrase']} (min {sweep['min_r_per_phrase']}), pooled r {sweep['pooled_r']}; proxy "
        f"{sweep['proxy_at_0_db']} dB at 0, {sweep['proxy_at_127_db']} dB at 127. Target r >= 0.8.",
        f"- Same proxy on the training audio ({train['examples']} examples): r with the example's CC55 {train['r']}; "
        f"all-closed examples {train['proxy_all_closed_db']} dB, all-open {train['proxy_all_open_db']} dB.",
        f"- **Velocity acts as in the data.** {vel['notes']} isolated notes: r(velocity, peak loudness) = "
        f"{vel['r_ours']} (soundfont {vel['r_soundfont']}); loudness range {vel['loudness_range_db_ours']} dB "
        f"(soundfont {vel['loudness_range_db_soundfont']} dB). Target r >= 0.8.",
        "- **Audio checks** (monophonic test line, at CC55 0 and 127):",
        "```json",
        json.dumps(metrics["audio_checks"], indent=1),
        "```",
    ]
    if "real_guitar_notes" in metrics:
        lines += ["- **Real guitar notes** (spectral-envelope distance, dB, lower is closer; same pitch, 1.2-s note):"]
        for folder, row in metrics["real_guitar_notes"].items():
            lines.append(
                f"  - {folder} ({row.get('notes')} notes): ours {row.get('ours_db')}, soundfont "
                f"GM {OPEN_PROGRAM} {row.get('soundfont_db')}"
            )
    lines += ["", "Speed: `bench/bench_style_ddsp.py` (figures in its output, not here).", ""]
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
    write_bytes(args.card, card_text(args.bundle, metrics, load_bundle(args.bundle).config).encode("utf-8"))
    print(json.dumps(metrics, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
