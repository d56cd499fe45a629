"""The model card's audio-domain sections (issue 12): Markdown tables with FluidSynth beside ours."""

from __future__ import annotations

from pathlib import Path

from readdsp.core.levels import BALANCE_LIMIT_DB, REFERENCE_LUFS
from readdsp.training.real_recordings import METRICS, SYSTEMS


def _v(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    # + 0.0 turns a -0.0 (a figure rounding to zero from below) into 0.0
    return f"{round(value, digits) + 0.0:.{digits}f}" if isinstance(value, float) else str(value)


def _pair(ours, theirs, digits: int = 2) -> str:
    return f"{_v(ours, digits)} / {_v(theirs, digits)}"


def audio_check_lines(checks: dict) -> list[str]:
    """Per instrument: pitch, timing, release, levels and mel distance to the source soundfont, ours / FluidSynth."""
    rows = checks["instruments"]
    lines = [
        "## Audio checks (test phrases, dry; ours / FluidSynth + FluidR3_GM, measured alike)",
        "",
        "Targets: pitch >= 98% of notes of 150 ms or longer within +-25 cents (YIN pitch, SwiftF0 voicing, on the"
        " render); onset median "
        "error within 10 ms of FluidSynth's (librosa onsets); release >= 20 dB under the note 300-400 ms after"
        " "
        "note-off. Pitch arrival: when the tracked pitch first reaches the note (a timing figure legato cannot fool). "
        "Mel distance to the source: log-mel distance to the bundle's training soundfont "
        f"({checks['source_soundfont']}) "
        "rendering the same phrase.",
        "",
        "| instrument | notes | pitch within 25 c | median abs cents | onset median error (ms) | pitch arrival (ms) "
        "| release drop (dB, median) | release notes >= 20 dB | LUFS | peak dBFS | mel distance to source (dB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        o, f = row["ours"], row["fluidsynth"]
        lines.append(
            f"| {name} | {row['notes']} | {_pair(o['pitch']['within_25_cents'], f['pitch']['within_25_cents'], 3)} "
            f"| {_pair(o['pitch']['median_abs_cents'], f['pitch']['median_abs_cents'], 1)} "
            f"| {_pair(o['onset_median_error_ms'], f['onset_median_error_ms'], 1)} "
            f"| {_pair(o['pitch_arrival_median_error_ms'], f['pitch_arrival_median_error_ms'], 1)} "
            f"| {_pair(o['release']['median_drop_db'], f['release']['median_drop_db'], 1)} "
            f"| {_pair(o['release']['share_over_20_db'], f['release']['share_over_20_db'], 2)} "
            f"| {_pair(o['lufs'], f['lufs'], 1)} | {_pair(o['peak_dbfs'], f['peak_dbfs'], 1)} "
            f"| {_pair(o['mel_distance_to_source_db'], f['mel_distance_to_source_db'])} |"
        )
    o, f = checks["overall"]["ours"], checks["overall"]["fluidsynth"]
    lines += [
        f"| all | - | {_pair(o['pitch_within_25_cents'], f['pitch_within_25_cents'], 3)} | - "
        f"| {_pair(o['onset_median_error_ms'], f['onset_median_error_ms'], 1)} "
        f"| {_pair(o['pitch_arrival_median_error_ms'], f['pitch_arrival_median_error_ms'], 1)} "
        f"| {_pair(o['release_median_drop_db'], f['release_median_drop_db'], 1)} "
        f"| {_pair(o['release_share_over_20_db'], f['release_share_over_20_db'], 2)} "
        f"| spread {_pair(o['lufs_spread_db'], f['lufs_spread_db'], 1)} "
        f"| max {_pair(o['peak_dbfs_max'], f['peak_dbfs_max'], 1)} "
        f"| {_pair(o['mel_distance_to_source_db'], f['mel_distance_to_source_db'])} |",
        "",
    ]
    return lines


def imitation_lines(imitation: dict) -> list[str]:
    lines = [
        "## Imitation: mel distance to the dataset's own audio (held-out split, dB, lower is better)",
        "",
        "| instrument | examples | ours | FluidSynth + FluidR3_GM |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {row.get('examples', '-')} | {_v(row['ours'])} | {_v(row['fluidsynth'])} |"
        for name, row in imitation.items()
    ]
    return lines + [""]


def calibration_lines(calibration: dict, checks: dict | None) -> list[str]:
    """Gains, loudness before and after, the phrases' loudness after calibration, dynamics and volume saturation."""
    phrase = {k: v["ours"]["lufs"] for k, v in (checks or {}).get("instruments", {}).items()}
    trims = calibration.get("balance", {}).get("trims_db", {})
    lines = [
        f"## Levels: calibration (a 2-s note, velocity 100, volume 0.5, to {REFERENCE_LUFS:g} LUFS)",
        "",
        "Then the source's balance: an instrument that plays louder against the others, at velocity 100 with its"
        " expression generated, than the source soundfont's does against its others is lowered by that excess, at"
        f" most {BALANCE_LIMIT_DB:g} dB (the balance trim, included in the gain).",
        "",
        "| instrument | gain (dB, in the sidecar) | balance trim (dB) | uncalibrated LUFS | calibrated LUFS "
        "| test phrase LUFS, calibrated |",
        "|---|---|---|---|---|---|",
    ]
    for name, gain in calibration["gains_db"].items():
        lines.append(
            f"| {name} | {_v(gain)} | {_v(trims.get(name))} | {_v(calibration['uncalibrated_lufs'].get(name))} "
            f"| {_v(calibration['calibrated_lufs'].get(name))} | {_v(phrase.get(name))} |"
        )
    finite = [v for v in phrase.values() if v is not None]
    spread = f"{max(finite) - min(finite):.2f} dB" if finite else "-"
    fluidsynth = (checks or {}).get("overall", {}).get("fluidsynth", {}).get("lufs_spread_db")
    lines += [
        "",
        f"Spread of the calibrated note: {_v(calibration['calibrated_spread_db'])} dB (target: every instrument within"
        f" +-3 dB of {REFERENCE_LUFS:g} LUFS); of the test phrases: {spread} (FluidR3_GM's: {_v(fluidsynth)} dB).",
        "",
        f"Dynamics: one note at velocities 20..127 (expression generated), loudness range of ours against the source "
        f"soundfont ({calibration.get('source_soundfont', '-')}); target within 3 dB. The last column is ours over "
        "constant-velocity phrases, each rendered alone and measured on its third note: the Expression Generator "
        "starts a phrase near its mean volume and lets each note lean on the one before, which narrows a sweep.",
        "",
        "| instrument | ours range (dB) | source range (dB) | difference (dB) | ours, constant-velocity phrases (dB) |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {_v(r['ours_range_db'])} | {_v(r['source_range_db'])} | {_v(r['difference_db'])} "
        f"| {_v(r.get('ours_phrase_range_db'))} |"
        for name, r in calibration.get("dynamics", {}).items()
    ]
    lines += [
        "",
        "Generated volume control at 0 or 1 on real pieces (target <= 10%):",
        "",
        "| piece | notes | at 0 or 1 | at 1 |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {r['notes']} | {r['share_at_0_or_1']:.1%} | {r['share_at_1']:.1%} |"
        for name, r in calibration.get("volume_saturation", {}).items()
    ]
    return lines + [""]


METRIC_LABELS = {
    "log_mel_db": "log-mel (dB)",
    "spectral_envelope_db": "spectral envelope (dB)",
    "pitch_deviation_diff_cents": "pitch deviation off (cents)",
    "loudness_contour_r": "loudness contour r",
}


def real_recording_lines(
    real: dict, heading: str = "Real recordings (PHENICX clips, Philharmonia notes, TinySOL)"
) -> list[str]:
    """Target E: per recording instrument, each distance for ours / FluidR3_GM / MuseScore_General."""
    header = " | ".join(f"{METRIC_LABELS[m]}" for m in METRICS)
    lines = [
        f"## {heading}, dry; ours / FluidR3_GM / MuseScore_General",
        "",
        "Lower is closer, except the loudness-contour r (higher). Pitch deviation off: |within-note pitch spread of"
        " the render - the recording's|. Target E: ours below MuseScore_General in log-mel and spectral envelope, and"
        " at "
        "least as close in pitch deviation and loudness contour, for every instrument the bundle plays natively."
        " Each recording's notes are re-rendered by all three; a clip cut from inside a note (PHENICX's winds) is"
        " rendered from before its cut and on past its end, then cut alike.",
        "",
        f"| instrument (rendered as) | recordings | {header} | target E |",
        "|---|---|" + "---|" * len(METRICS) + "---|",
    ]
    for name, row in real["instruments"].items():
        cells = " | ".join(" / ".join(_v(row[s][m]) for s in SYSTEMS) for m in METRICS)
        native = "" if row["native"] else " (not in the bundle)"
        lines.append(
            f"| {name} ({row['rendered_as']}) | {row['recordings']} | {cells} | {_v(row['beats_musescore'])}{native} |"
        )
    overall = real["overall"]
    cells = " | ".join(" / ".join(_v(overall[s][m]) for s in SYSTEMS) for m in METRICS)
    lines += [
        f"| mean over instruments | - | {cells} | {_v(overall['beats_musescore'])} |",
        "",
        f"Target E met on every native instrument: {_v(overall['target_e'])}.",
        "",
    ]
    return lines + movement_lines(real["instruments"])


def movement_lines(instruments: dict) -> list[str]:
    """Per instrument and note length: the median within-note pitch spread of the recordings and of each render."""
    tables = {
        name: row["pitch_movement_by_length"] for name, row in instruments.items() if "pitch_movement_by_length" in row
    }
    if not tables:
        return []
    bins = list(next(iter(tables.values())))
    lines = [
        "Within-note pitch movement by note length: the median spread (cents) over the notes of that length, of the"
        " recordings / ours / FluidR3_GM / MuseScore_General (notes measured in brackets).",
        "",
        f"| instrument | {' | '.join(bins)} |",
        "|---|" + "---|" * len(bins),
    ]
    for name, table in tables.items():
        cells = [
            " / ".join(_v(row[k], 1) for k in ("real", *SYSTEMS)) + f" ({row['notes']})" if row["notes"] else "-"
            for row in table.values()
        ]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return [*lines, ""]


def held_note_lines(held: dict) -> list[str]:
    """Per instrument: a held note's level at half and at 90% of its length against its level at 20%."""
    lines = [
        f"## Held notes (a {held['note_s']:g}-s note at velocity {held['velocity']}, dry; ours / "
        f"{held['source_soundfont']}, the source)",
        "",
        "Level (A-weighted, median over 0.2 s) at 50% and 90% of the note, in dB against its level at 20%: a player"
        " and the soundfont hold a note; a negative figure is a fade.",
        "",
        "| instrument | at 50% (dB) | at 90% (dB) |",
        "|---|---|---|",
    ]
    for name, row in held["instruments"].items():
        o, s = row["ours"], row["source"]
        lines.append(f"| {name} | {_pair(o['at_50'], s['at_50'], 1)} | {_pair(o['at_90'], s['at_90'], 1)} |")
    return [*lines, ""]


def vibrato_fit_lines(fit: dict) -> list[str]:
    """Per instrument: real players' within-note pitch spread, ours before and after the fitted vibrato factor."""
    lines = [
        "## Vibrato fitted to real players' notes",
        "",
        f"Each instrument's generated vibrato is multiplied by a factor (the sidecar's `vibrato_scale`), fitted so that"
        f" the median within-note pitch spread (1.4826 x MAD, cents) of our renders of the players' notes matches"
        f" theirs: the notes of `{Path(fit['dataset']).name}` (`--vibrato-from`), up to 16 per instrument, evenly"
        " spaced in pitch. Table 1's Expression Generator RMSE scores the network, before the factor.",
        "",
        "| instrument | notes | players (cents) | ours before | ours after | factor |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in fit["instruments"].items():
        lines.append(
            f"| {name} | {row['notes']} | {_v(row['real_cents'], 1)} | {_v(row['ours_before_cents'], 1)} |"
            f" {_v(row['ours_after_cents'], 1)} | {_v(row['scale'])} |"
        )
    return [*lines, ""]


def brightness_band_lines(summary: dict) -> list[str]:
    """Per instrument: the pitches its brightness band covers and its median width."""
    low, high = (round(100 * q) for q in summary["quantiles"])
    lines = [
        "## Brightness kept within the training data's band",
        "",
        f"Each instrument's generated brightness is kept within the {low}th to {high}th percentile of the brightness"
        f" its training notes held within a semitone of the note's pitch (the sidecar's `brightness_band`, fitted on"
        f" `{summary['dataset']}` by `readdsp train bands`). A generated note outside it is brought to its edge"
        " (a lone held note can be far outside, by its length). Past the pitches below, a side holds the band's"
        f" end bounds only where that brings our notes there at least {_v(summary.get('reach_min_gain_db'))} dB"
        " closer to the source soundfont in both mean log-mel and mean spectral-envelope distance; elsewhere no note"
        " is bounded. The notes tried: lone notes at velocities 60 and 100 and a run of short notes, every second"
        " semitone up to an octave past the band's end, within the instrument's range.",
        "",
        "| instrument | pitches | median width | below (log-mel/envelope dB, unbounded to held) | above |",
        "|---|---|---|---|---|",
    ]
    reach = summary.get("reach", {})
    for name, row in summary["instruments"].items():
        sides = [_reach_cell(reach.get(name, {}).get(side)) for side in ("below", "above")]
        lines.append(
            f"| {name} | {row['pitches'][0]}-{row['pitches'][1]} | {_v(row['median_width'])} | {' | '.join(sides)} |"
        )
    return [*lines, ""]


def _reach_cell(side: dict | None) -> str:
    """One side's reach: its pitches, log-mel / envelope distance unbounded and held, and which holds."""
    if side is None:
        return "-"
    pitches = side["pitches"]
    span = f"{min(pitches)}-{max(pitches)}" if len(pitches) > 1 else f"{pitches[0]}"
    unbounded, held = ("/".join(_v(d) for d in side[key]) for key in ("unbounded_db", "held_db"))
    return f"{span}: {unbounded} to {held}, **{'held' if side['holds'] else 'unbounded'}**"


def audio_sections(metrics: dict) -> list[str]:
    """Every audio-domain section the metrics hold, in the card's order."""
    lines: list[str] = []
    if "audio_checks" in metrics:
        lines += audio_check_lines(metrics["audio_checks"])
    if "held_notes" in metrics:
        lines += held_note_lines(metrics["held_notes"])
    if "imitation" in metrics:
        lines += imitation_lines(metrics["imitation"])
    if "vibrato_fit" in metrics:
        lines += vibrato_fit_lines(metrics["vibrato_fit"])
    if "brightness_band" in metrics:
        lines += brightness_band_lines(metrics["brightness_band"])
    if "calibration" in metrics:
        lines += calibration_lines(metrics["calibration"], metrics.get("audio_checks"))
    if "real_recordings" in metrics:
        lines += real_recording_lines(metrics["real_recordings"])
    if "real_phrases" in metrics:
        folder = Path(metrics["real_phrases"]["folder"]).name
        lines += real_recording_lines(metrics["real_phrases"], f"Real phrases (`{folder}/`, transcribed)")
    return lines
