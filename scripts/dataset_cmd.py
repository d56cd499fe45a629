"""`readdsp dataset ...`: render a soundfont training corpus, or cache a user's own audio + MIDI pairs."""

from __future__ import annotations

import argparse

from readdsp.core.errors import ReaDDSPError


def _csv(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def register(subparsers) -> None:
    parser = subparsers.add_parser("dataset", help="build cached training datasets")
    sub = parser.add_subparsers(dest="dataset_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: parser.print_help() or 2)

    corpus = sub.add_parser(
        "render-corpus",
        help="render real note lines (Bach chorales, Essen folk songs, jazz solos) through FluidSynth",
        description="Render expressive monophonic lines with FluidSynth; cache audio, f0, loudness, notes.",
    )
    corpus.add_argument("-o", "--output", required=True, help="dataset folder to create")
    corpus.add_argument("--instruments", default="violin,cello,flute,clarinet,trumpet,saxophone")
    corpus.add_argument("--sample-rate", type=int, default=24000, help="audio rate, a multiple of 250 (default 24000)")
    corpus.add_argument("--soundfont", default="fluidr3", help="fluidr3, musescore or a path to an .sf2/.sf3")
    corpus.add_argument("--minutes-per-instrument", type=float, default=7.0)
    corpus.add_argument(
        "--sources", default="bach,folk,jazz", help="comma list of bach, folk, jazz, longtones (long-tone exercises)"
    )
    corpus.add_argument("--jazz-zip", default=None, help="Weimar Jazz DB score_csv.zip (jazz is skipped without it)")
    corpus.add_argument("--seed", type=int, default=0)
    corpus.add_argument("--jobs", type=int, default=1, help="lines rendered in parallel")
    corpus.add_argument("--overwrite", action="store_true", help="replace an existing dataset folder")
    corpus.set_defaults(func=_render_corpus)

    pairs = sub.add_parser(
        "from-pairs",
        help="cache your own audio + MIDI pairs (take1.wav + take1.mid)",
        description="Turn same-stem audio (WAV/FLAC/MP3) + MIDI pairs, into a dataset.",
    )
    pairs.add_argument("folder", help="folder holding the pairs")
    pairs.add_argument("-o", "--output", required=True, help="dataset folder to create")
    pairs.add_argument("--instrument", default=None, help="instrument name (default: from the MIDI program)")
    pairs.add_argument("--sample-rate", type=int, default=24000)
    pairs.add_argument("--overwrite", action="store_true", help="replace an existing dataset folder")
    pairs.set_defaults(func=_from_pairs)

    notes = sub.add_parser(
        "from-notes",
        help="cache single-note samples named by pitch, one folder per instrument (cello/A2.wav, flute/Cs5.mp3)",
        description="Turn folders of single-note recordings, each file named by its note (A4, Cs5 or C#5, Bb3), "
        "into a dataset; each sub-folder's name is the instrument. A dynamic marking in the name (mf, forte) "
        "sets the note's velocity.",
    )
    notes.add_argument("folder", help="folder holding one sub-folder of notes per instrument")
    notes.add_argument("-o", "--output", required=True, help="dataset folder to create")
    notes.add_argument("--sample-rate", type=int, default=48000)
    notes.add_argument(
        "--velocity",
        type=int,
        default=80,
        help="the velocity of notes whose file names carry no dynamic marking such as mf or forte (default 80)",
    )
    notes.add_argument("--overwrite", action="store_true", help="replace an existing dataset folder")
    notes.set_defaults(func=_from_notes)

    project = sub.add_parser(
        "from-project",
        help="cache a REAPER project's audio items annotated by the MIDI items on another track",
        description="Read SONG.RPP offline: audio items on one track, the MIDI items that annotate them on another.",
    )
    project.add_argument("project", help="the .RPP project (never modified)")
    project.add_argument("--audio-track", required=True, help="name of the track holding the audio items")
    project.add_argument("--midi-track", required=True, help="name of the track holding the annotating MIDI items")
    project.add_argument("-o", "--output", required=True, help="dataset folder to create")
    project.add_argument("--instrument", default="guitar", help="instrument name stored with the examples")
    project.add_argument("--sample-rate", type=int, default=24000, help="audio rate, a multiple of 250")
    project.add_argument("--no-f0", action="store_true", help="skip f0 tracking (style-DDSP takes pitch from MIDI)")
    project.add_argument("--overwrite", action="store_true", help="replace an existing dataset folder")
    project.set_defaults(func=_from_project)


def _render_corpus(args: argparse.Namespace) -> int:
    from readdsp.datasets.corpus import CorpusSettings, render_corpus

    if args.minutes_per_instrument <= 0 or args.jobs < 1:
        raise ReaDDSPError("--minutes-per-instrument must be positive and --jobs at least 1")
    settings = CorpusSettings(
        instruments=_csv(args.instruments),
        sample_rate=args.sample_rate,
        soundfont=args.soundfont,
        minutes_per_instrument=args.minutes_per_instrument,
        sources=_csv(args.sources),
        jazz_zip=args.jazz_zip,
        seed=args.seed,
        jobs=args.jobs,
    )
    summary = render_corpus(args.output, settings, overwrite=args.overwrite)
    minutes = ", ".join(f"{name} {s / 60:.1f} min" for name, s in summary["seconds_per_instrument"].items())
    wall = summary["wall_seconds"]
    print(f"wrote {summary['examples']} examples to {args.output} ({minutes}) in {wall:.0f} s")
    return 0


def _from_pairs(args: argparse.Namespace) -> int:
    from readdsp.datasets.pairs import build_from_pairs

    summary = build_from_pairs(args.folder, args.output, args.sample_rate, args.instrument, args.overwrite)
    print(f"wrote {summary['examples']} examples ({summary['seconds'] / 60:.1f} min) to {args.output}")
    return 0


def _from_notes(args: argparse.Namespace) -> int:
    from readdsp.datasets.note_samples import build_from_note_samples

    summary = build_from_note_samples(args.folder, args.output, args.sample_rate, args.velocity, args.overwrite)
    minutes = ", ".join(f"{name} {s / 60:.1f} min" for name, s in summary["seconds_per_instrument"].items())
    left_out = f"; {len(summary['left_out'])} left out (see the warnings)" if summary["left_out"] else ""
    print(f"wrote {summary['examples']} examples to {args.output} ({minutes}){left_out}")
    return 0


def _from_project(args: argparse.Namespace) -> int:
    from readdsp.datasets.from_project import build_from_project
    from readdsp.reaper_ext.project_audio import read_annotated_project

    project = read_annotated_project(args.project, args.audio_track, args.midi_track)
    summary = build_from_project(
        project, args.output, args.sample_rate, args.instrument, args.overwrite, f0=not args.no_f0
    )
    for message in summary["messages"]:
        print(f"readdsp: note: {message}")
    dropped = ", ".join(f"{count} {reason}" for reason, count in sorted(summary["skipped"].items())) or "nothing"
    print(
        f"wrote {summary['examples']} examples ({summary['seconds'] / 60:.1f} min) to {args.output} in "
        f"{summary['wall_seconds']:.1f} s ({summary['f0_seconds']:.1f} s of it f0 tracking); dropped: {dropped}"
    )
    return 0
