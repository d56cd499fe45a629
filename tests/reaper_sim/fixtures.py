"""Test projects written in REAPER's .RPP format: MIDI items with known notes, CCs, loops and offsets."""

from __future__ import annotations

import subprocess
from pathlib import Path

HEADER = """<REAPER_PROJECT 0.1 "7.0/linux-x86_64" 1700000000
  RECORD_PATH "media" ""
  SAMPLERATE {rate} 1 0
  TEMPO {bpm} {numerator} {denominator}
  <TEMPOENVEX
    ACT 0
    VIS 1 0 1
    DEFSHAPE 1 -1 -1
{tempo_points}  >
"""


def midi_events(notes: list[tuple[int, int, int, int, int]], ccs=(), end_tick: int | None = None) -> list[str]:
    """`E` lines from (start, end, channel, pitch, velocity) notes and (tick, status, d1, d2) events."""
    events = []
    for start, end, channel, pitch, velocity in notes:
        events.append((start, 1, f"{0x90 | channel:02x} {pitch:02x} {velocity:02x}"))
        events.append((end, 0, f"{0x80 | channel:02x} {pitch:02x} 00"))
    for tick, status, d1, d2 in ccs:
        events.append((tick, 2, f"{status:02x} {d1:02x} {d2:02x}"))
    events.sort()
    lines, last = [], 0
    for tick, _, data in events:
        lines.append(f"E {tick - last} {data}")
        last = tick
    final = max(last, end_tick or last)
    lines.append(f"E {final - last} b0 7b 00")
    return lines


def midi_item(
    name: str,
    position: float,
    length: float,
    events: list[str],
    selected: bool = True,
    loop: bool = False,
    soffs: float = 0.0,
    playrate: float = 1.0,
    guid: str = "",
) -> str:
    body = "\n".join(f"        {line}" for line in events)
    return f"""    <ITEM
      POSITION {position}
      LENGTH {length}
      LOOP {int(loop)}
      SEL {int(selected)}
      IGUID {{00000000-0000-0000-0000-{abs(hash(name)) % 10**12:012d}}}
      NAME "{name}"
      VOLPAN 1 0 1 -1
      SOFFS {soffs}
      PLAYRATE {playrate} 1 0 -1 0 0.0025
      CHANMODE 0
      GUID {guid or "{11111111-2222-3333-4444-" + f"{abs(hash(name + 'g')) % 10**12:012d}" + "}"}
      <SOURCE MIDI
        HASDATA 1 960 QN
{body}
      >
    >
"""


def audio_item(name: str, position: float, length: float, file: str) -> str:
    return f"""    <ITEM
      POSITION {position}
      LENGTH {length}
      SEL 1
      NAME "{name}"
      <SOURCE WAVE
        FILE "{file}"
      >
    >
"""


def write_project(
    path: Path,
    tracks: dict[str, list[str]],
    bpm: float = 120.0,
    rate: int = 48000,
    tempo_points: list[tuple] = (),  # (seconds, bpm) square, (seconds, bpm, shape): 0 = linear, (..., timesig(n, d))
    time_signature: tuple[int, int] = (4, 4),
) -> Path:
    points = "".join(f"    PT {' '.join(map(str, (*p, 1) if len(p) == 2 else p))}\n" for p in tempo_points)
    numerator, denominator = time_signature
    text = HEADER.format(rate=rate, bpm=bpm, numerator=numerator, denominator=denominator, tempo_points=points)
    for name, items in tracks.items():
        text += f'  <TRACK\n    NAME "{name}"\n' + "".join(items) + "  >\n"
    text += ">\n"
    path.write_text(text, encoding="utf-8")
    return path


def timesig(numerator: int, denominator: int) -> int:
    """A tempo marker's time-signature field, as REAPER writes it: numerator + 65536 * denominator."""
    return numerator + 65536 * denominator


def quartet_events(bars: int = 2) -> list[str]:
    """Four parts (channels 0-3, programs violin/viola/cello/flute), one quarter note per beat each."""
    notes = []
    base = {0: 76, 1: 69, 2: 55, 3: 81}
    for channel, pitch in base.items():
        for beat in range(4 * bars):
            notes.append((beat * 960, beat * 960 + 900, channel, pitch + (beat % 3), 90))
    programs = [(0, 0xC0 | ch, prog, 0) for ch, prog in {0: 40, 1: 41, 2: 42, 3: 73}.items()]
    return midi_events(notes, programs, end_tick=4 * bars * 960)


def load_test_renderer():
    """The real Renderer: the bundled default model, or (until one ships) an untrained MidiDDSP."""
    import torch

    from readdsp.core.errors import ReaDDSPError
    from readdsp.core.render import Renderer

    try:
        return Renderer.load()
    except ReaDDSPError:
        from readdsp.core.models.midi_ddsp import MidiDDSP

        torch.manual_seed(0)
        config = {
            "instruments": ["violin", "viola", "cello", "flute"],
            "sample_rate": 16000,
            "expression_generator": {},
            "synthesis_generator": {},
            "reverb_seconds": 0.25,
        }
        return Renderer(MidiDDSP(config).eval())


def engine_model_args(folder: Path) -> list[str]:
    """`--model` arguments for an engine process: none with a shipped bundle, else an untrained one."""
    from readdsp.core.bundle import save_bundle
    from readdsp.core.errors import ReaDDSPError
    from readdsp.core.render import Renderer

    try:
        Renderer.load()
        return []
    except ReaDDSPError:
        renderer = load_test_renderer()
        path = save_bundle(folder / "untrained.safetensors", renderer.model.config, renderer.model.bundle_modules())
        return ["--model", str(path)]


def reap(process: subprocess.Popen) -> None:
    """Kill a test's child process if it still runs, and close its output pipe."""
    if process.poll() is None:
        process.kill()
    process.stdout.close()
