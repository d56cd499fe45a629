"""`readdsp transcribe`: draft MIDI from guitar audio, into a copy of a REAPER project, a new project or a .mid file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from readdsp.core.errors import ReaDDSPError

if TYPE_CHECKING:  # the transcriber loads onnxruntime: imported when the command runs
    from readdsp.core.annotated_project import AudioSpan
    from readdsp.datasets.guitar_transcribe import Transcriber
    from readdsp.reaper_ext.draft_project import Transcribe

MIDI_SUFFIXES = (".mid", ".midi")
GUITAR_PROGRAM = 25  # GM acoustic guitar (steel), 0-based


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "transcribe",
        help="draft MIDI items from a track's guitar audio (offline, basic-pitch's ONNX model)",
        description="SONG.RPP --track NAME -o DRAFT.RPP: a copy of the project with a MIDI track drafted from the "
        "track's audio items. AUDIO -o DRAFT.RPP: a new project with the audio and the draft; AUDIO -o DRAFT.mid: "
        "a MIDI file.",
    )
    parser.add_argument("input", help="a REAPER project (.RPP, never modified) or an audio file")
    parser.add_argument("--track", help="the track holding the audio items (for audio: the new track's name)")
    parser.add_argument("-o", "--output", required=True, help="DRAFT.RPP, or DRAFT.mid for an audio input")
    parser.add_argument("--bpm", type=float, default=120.0, help="tempo of a new project or .mid (default 120)")
    parser.add_argument("--onnx-model", type=Path, help="basic-pitch's nmp.onnx (default: the installed wheel's)")
    parser.set_defaults(func=run_transcribe)


def _transcribe_span(transcriber: Transcriber) -> Transcribe:
    """Transcribe the audio an item plays (`read_region`, the reader `dataset from-project` uses)."""
    from readdsp.datasets.from_project import read_region
    from readdsp.datasets.guitar_transcribe import RATE

    return lambda span: transcriber.transcribe(read_region(span, RATE), RATE)


def run_transcribe(args: argparse.Namespace) -> int:
    source = Path(args.input)
    if source.suffix.lower() == ".rpp":
        return _transcribe_project(args, source)
    return _transcribe_audio(args, source)


def _transcribe_project(args: argparse.Namespace, source: Path) -> int:
    from readdsp.datasets.guitar_transcribe import Transcriber
    from readdsp.reaper_ext.draft_project import draft_project, plan_draft

    if not args.track:
        raise ReaDDSPError("--track NAME is needed: the track whose audio items are transcribed", source)
    plan = plan_draft(source, args.output, args.track)  # every check before the model loads
    result = draft_project(source, args.output, args.track, _transcribe_span(Transcriber(args.onnx_model)), plan)
    for message in result["messages"]:
        print(f"readdsp: note: {message}")
    drafted = f"{result['items']} MIDI item(s), {result['notes']} notes"
    print(f"wrote {result['output']}: track {result['track']!r}, {drafted}")
    return 0


def _audio_span(source: Path, track: str) -> tuple[AudioSpan, int]:
    """The whole file as one item at 0 s, and its sample rate; ReaDDSPError when it is not readable audio."""
    import soundfile as sf

    from readdsp.core.annotated_project import AudioSpan

    if not source.is_file():
        raise ReaDDSPError("audio file not found" if not source.exists() else "is not a file", source)
    try:
        info = sf.info(str(source))
    except (RuntimeError, sf.LibsndfileError) as err:
        raise ReaDDSPError(f"not an audio file or a .RPP project ({err})", source) from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise ReaDDSPError("the audio file holds no samples", source)
    return AudioSpan(f"{track} item 1", source.resolve(), 0.0, info.frames / info.samplerate), int(info.samplerate)


def _transcribe_audio(args: argparse.Namespace, source: Path) -> int:
    from readdsp.core.atomic import write_bytes
    from readdsp.core.midi_io import write_midi
    from readdsp.core.output_path import check_output_file
    from readdsp.core.performance import Part, Performance
    from readdsp.core.tempo_map import check_bpm
    from readdsp.datasets.guitar_transcribe import Transcriber
    from readdsp.reaper_ext.draft_project import new_project_text

    output = check_output_file(args.output, (".rpp", *MIDI_SUFFIXES))
    if output.resolve() == source.resolve():
        raise ReaDDSPError("the output must be a different file from the input", output)
    bpm = check_bpm(args.bpm, "--bpm")
    track = args.track or source.stem
    span, sample_rate = _audio_span(source, track)
    notes = _transcribe_span(Transcriber(args.onnx_model))(span)
    if output.suffix.lower() in MIDI_SUFFIXES:
        part = Part(name=f"{track} (draft)", program=GUITAR_PROGRAM, notes=notes)
        write_midi(Performance([part], ticks_per_beat=960, tempo_map=[(0.0, bpm)]), output)
    else:
        text = new_project_text(span, notes, output.resolve(), track, sample_rate, bpm)
        write_bytes(output, text.encode("utf-8"))
    print(f"wrote {output}: {len(notes)} notes drafted from {source}")
    return 0
