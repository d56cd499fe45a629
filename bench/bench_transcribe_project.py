"""`readdsp transcribe` end to end: note F1 of the drafted MIDI items against a project's annotation (project time).

Usage: python bench/bench_transcribe_project.py SONG.RPP --audio-track "Guitar DI" --midi-track Annotation

The draft is written to a temporary folder (the input is never written), read back through the `from-project` reader
(tempo map, item positions) beside the annotation, and compared per audio item: same pitch, onset within 50 ms
(`datasets/guitar_transcribe.note_f1`). The generated guitar project
(`python -m readdsp.scripts.make_guitar_project OUT --minutes 3 --seed 7`) is FluidSynth's muted and open guitars.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from readdsp.datasets.from_project import read_region
from readdsp.datasets.guitar_transcribe import RATE, Transcriber, _pooled, note_f1
from readdsp.reaper_ext.draft_project import draft_project
from readdsp.reaper_ext.project_audio import read_annotated_project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--audio-track", required=True)
    parser.add_argument("--midi-track", required=True)
    args = parser.parse_args()
    transcriber = Transcriber()
    reference = read_annotated_project(args.project, args.audio_track, args.midi_track)
    with tempfile.TemporaryDirectory(prefix="readdsp-transcribe-") as tmp:
        out = Path(tmp) / "draft.RPP"
        started = time.perf_counter()
        result = draft_project(
            args.project, out, args.audio_track, lambda s: transcriber.transcribe(read_region(s, RATE), RATE)
        )
        wall = time.perf_counter() - started
        drafted = read_annotated_project(out, args.audio_track, result["track"])
    rows = []
    for span in reference.audio:
        ref = [n for a in reference.annotations for n in a.notes if span.position <= n.onset < span.end]
        est = [n for a in drafted.annotations for n in a.notes if span.position <= n.onset < span.end]
        rows.append(note_f1(ref, est))
    seconds = sum(s.length for s in reference.audio)
    print(json.dumps({"audio_seconds": seconds, "wall_seconds": round(wall, 1), **_pooled(rows)}, indent=1))


if __name__ == "__main__":
    main()
