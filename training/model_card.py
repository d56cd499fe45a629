"""The model card of a bundle: data, licences, steps, wall time, sample rate and held-out metrics, as Markdown."""

from __future__ import annotations

from pathlib import Path

from readdsp.core.atomic import atomic_path
from readdsp.training.model_card_audio import audio_sections

SOUNDFONT_LICENCES = {
    "fluidr3": ("soundfont FluidR3_GM (Debian fluid-soundfont-gm)", "MIT"),
    "musescore": ("soundfont MuseScore_General (Debian musescore-general-soundfont-lossless)", "MIT"),
}
SCORE_LICENCES = {
    "music21 corpus: Bach chorales, Essen folk songs": "public domain scores; music21 BSD-3-Clause",
    "Weimar Jazz Database solo transcriptions": "ODbL 1.0",
}


def data_licences(data: dict) -> dict[str, str]:
    """The licence of each thing the corpus came from: the soundfont it was rendered with, then the scores."""
    soundfont = str(data.get("soundfont", "fluidr3"))
    known = [key for key in SOUNDFONT_LICENCES if key in soundfont.lower()]
    name, licence = SOUNDFONT_LICENCES[known[0]] if known else (f"soundfont {soundfont}", "see the soundfont's own")
    return {name: licence, **SCORE_LICENCES}


def _fmt(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _response(values: list[float] | None) -> str:
    if not values:
        return "-"
    return ", ".join("-" if values[i] is None else f"{values[i]:.2f}" for i in (0, len(values) // 2, -1))


def write_model_card(path: Path, config: dict, metrics: dict, commands: dict[str, str]) -> Path:
    """Write the card; every figure comes from `config` (training) and `metrics` (evaluation)."""
    training = config.get("training", {})
    lines = [
        f"# {config['name']}: MIDI-DDSP instrument bundle",
        "",
        f"- Instruments: {', '.join(config['instruments'])} (one model, an instrument embedding)",
        f"- Sample rate: {config['sample_rate']} Hz (rendered output is resampled to any rate); frames: 250 Hz",
        "- Output: dry (the training audio is dry); `--reverb AMOUNT` adds a room at render time",
        f"- Architecture: Synthesis Generator {config['synthesis_generator']}, "
        f"Expression Generator {config['expression_generator']}",
        "",
        "## Training data",
        "",
        f"- Dataset settings: `{config.get('data', {})}`",
        "- FluidSynth renders (reverb and chorus off) of monophonic lines with varied velocity, CC11, CC1 and",
        "  pitch-bend vibrato; splits are by source piece.",
        "",
        "| data | licence |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in data_licences(config.get("data", {})).items()],
        "",
        "## Training (CPU, 2 cores)",
        "",
        "| module | steps | wall time (s) | final losses |",
        "|---|---|---|---|",
    ]
    for stage in ("ddsp-inference", "expression-generator", "synthesis-generator"):
        m = training.get(stage, {})
        losses = ", ".join(f"{k} {_fmt(v)}" for k, v in m.get("final_losses", {}).items())
        lines.append(f"| {stage} | {m.get('steps', '-')} | {m.get('wall_time_s', '-')} | {losses} |")
    best = training.get("expression-generator", {}).get("best_validation")
    if best:
        lines += [
            "",
            f"The Expression Generator ships its best weights on the validation split: step {best['step']}, "
            f"teacher-forced RMSE {_fmt(best['score'])}.",
        ]
    lines += ["", "## Held-out metrics (test split)", ""]
    table1 = metrics.get("table1", {})
    if table1:
        lines += [
            "| Table 1 analogue | ours | paper (all instruments) |",
            "|---|---|---|",
            f"| DDSP Inference spectral loss | {_fmt(table1.get('ddsp_inference_spectral_loss'))} | - |",
            f"| Synthesis Generator expression RMSE | {_fmt(table1['synthesis_generator']['rmse'])} | 0.19 |",
            f"| Expression Generator expression RMSE, teacher-forced (the paper's protocol) "
            f"| {_fmt(table1['expression_generator']['rmse'])} | 0.14 |",
        ]
        free = table1["expression_generator"].get("rmse_free_running")
        if free is not None:
            lines.append(
                f"| Expression Generator expression RMSE, running free on its own outputs | {_fmt(free)} | - |"
            )
        lines += [
            "",
            "Per control (RMSE): "
            + "; ".join(
                f"{module} {table1[module]['per_control']}"
                for module in ("synthesis_generator", "expression_generator")
            ),
            "",
        ]
    table2 = metrics.get("table2", {})
    if table2:
        lines += [
            "| Table 2: control round trip, Pearson r | ours | paper | mean extracted at input 0, 0.5, 1 |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {_scored_label(name, row)} | {row['pearson_r']} | {row['paper']} | {_response(row.get('response'))} |"
            for name, row in table2.items()
        ]
        for name, row in table2.items():
            if "all_notes" in row:
                lines += _partly_scored_rows(name, row)
        lines.append("")
    real = metrics.get("real_excerpts", {})
    if real:
        lines += [
            "| mel distance to real recordings (dB, lower is better) | ours | FluidSynth FluidR3_GM |",
            "|---|---|---|",
        ]
        lines += [f"| {k} | {v['ours_db']} | {v['fluidsynth_db']} |" for k, v in real.items()]
        lines.append("")
    lines += audio_sections(metrics)
    lines += ["## Reproduce", ""] + [f"- {what}: `{cmd}`" for what, cmd in commands.items()] + [""]
    with atomic_path(path, ".md") as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
    return path


def _scored_label(name: str, row: dict) -> str:
    return f"{name} ({row['scored_on']})" if "scored_on" in row else name


def _partly_scored_rows(name: str, row: dict) -> list[str]:
    """Table 2 rows for a control scored on part of the notes: every note, a perfect model there, each source."""
    every = row["all_notes"]
    lines = [
        f"| {name}, every note ({every['notes_all']} notes, {every['scored_share']:.0%} scored above; the extraction "
        f"reads 0 on the rest) | {every['pearson_r_all_notes']} | - | - |",
        f"| {name}, every note, a perfect model (the asked value where scored, 0 elsewhere) "
        f"| {every['pearson_r_perfect_model_all_notes']} | - | - |",
    ]
    for source, by in row.get("by_source", {}).items():
        lines.append(
            f"| {name}, {source} lines only ({by['notes']} of {by['notes_all']} notes scored; every note: "
            f"{by['pearson_r_all_notes']}, a perfect model: {by['pearson_r_perfect_model_all_notes']}) "
            f"| {by['pearson_r']} | - | - |"
        )
    return lines
