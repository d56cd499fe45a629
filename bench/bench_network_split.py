"""Where a render's time goes, stage by stage, for a network size: sizing advice for a retrain (float32).

Builds a randomly initialised MidiDDSP from the bundle's config at `--sample-rate` with `--harmonics` harmonics
(weights do not change the time), lays out the segments of a real quartet as the renderer does, and times, per
batch of up to 32768 frames: the conditioning encoder, the BiLSTM f0 context, the autoregressive f0 loop, the
dilated conv stack, and the synth. FluidSynth renders the same MIDI in the same run as the anchor.
Also: the synth's x real time, and whether dropping near-silent harmonics (below --drop-db relative to a frame's
loudest) would pay, measured on the trained bundle's own harmonic distributions.

Usage: .venv/bin/python bench/bench_network_split.py [--seconds 360] [--set f0_encoder_hidden=64 --set ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import readdsp  # noqa: F401 - first, so the thread policy is set before torch loads

os.environ.setdefault("READDSP_PRECISION", "float32")
STAGES = ("encoder", "bilstm_context", "f0_loop", "conv_stack", "synth")


def parse_override(text: str) -> tuple[str, object]:
    """key=value for SynthesisGeneratorConfig; value a Python literal (int or tuple)."""
    import ast

    key, value = text.split("=", 1)
    return key, ast.literal_eval(value)


def random_model(sample_rate: int, harmonics: int, overrides: dict[str, object]):
    """MidiDDSP with the bundle's config at this rate and size, randomly initialised."""
    import torch

    from readdsp.core.bundle import read_bundle_config, resolve_bundle
    from readdsp.core.models.midi_ddsp import MidiDDSP

    config = read_bundle_config(resolve_bundle(None))
    config = {**config, "sample_rate": sample_rate}
    config["synthesis_generator"] = {**config["synthesis_generator"], "n_harmonics": harmonics, **overrides}
    torch.manual_seed(0)
    return MidiDDSP(config).eval()


def quartet_midi(folder: Path, seconds: float) -> Path:
    """The first `seconds` of Haydn's op. 74 no. 1/i (music21 corpus) as MIDI in `folder`."""
    from music21 import corpus

    from readdsp.core.midi_io import read_midi, write_midi

    full = folder / "haydn.mid"
    corpus.parse("haydn/opus74no1/movement1.mxl").write("midi", fp=str(full))
    perf = read_midi(full)
    for part in perf.parts:
        part.notes = [n for n in part.notes if n.onset < seconds]
        for n in part.notes:
            n.offset = min(n.offset, seconds)
    return write_midi(perf, folder / "cut.mid")


def fluidsynth_seconds(midi: Path, sample_rate: int) -> float:
    """Whole-process FluidSynth + FluidR3_GM time for `midi`."""
    from readdsp.datasets.fluidsynth import fluidsynth_binary, resolve_soundfont

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [fluidsynth_binary(), "-ni", "-q", "-R", "0", "-C", "0", "-r", str(sample_rate), "-F", f"{tmp}/o.wav"]
        start = time.perf_counter()
        subprocess.run([*cmd, str(resolve_soundfont("fluidr3")), str(midi)], check=True, capture_output=True)
        return time.perf_counter() - start


def decode(sg, z, f0_hz, lengths):
    """The parameter decoder as `generate_packed` runs it: f0 feature, then the dilated conv stack."""
    import torch

    from readdsp.core.models.layers import cast_linear
    from readdsp.core.models.synthesis_generator import _f0_feature_input

    feat = cast_linear(_f0_feature_input(f0_hz), sg.f0_feature)
    return sg._split_params(sg.params.infer_packed(torch.cat([z, feat], dim=-1), lengths).float())


def stage_times(model, jobs) -> tuple[dict[str, float], dict[str, float], int]:
    """Wall and CPU seconds per stage over all jobs, batched like the renderer; and the frames generated."""
    import numpy as np
    import torch

    from readdsp.core.models.f0_sampler import sample_f0_packed
    from readdsp.core.note_frames import FRAME_RATE, held_pitch, notes_to_frames
    from readdsp.core.render import BATCH_FRAMES, _batches
    from readdsp.core.units import midi_to_hz

    sg, times, cpu, frames = model.synthesis_generator, defaultdict(float), defaultdict(float), 0

    def timed(stage: str, fn, *args):
        start, start_cpu = time.perf_counter(), time.process_time()
        value = fn(*args)
        times[stage] += time.perf_counter() - start
        cpu[stage] += time.process_time() - start_cpu
        return value

    with torch.no_grad():
        for batch in _batches(jobs, BATCH_FRAMES):
            laid = [notes_to_frames(j.notes, j.n_frames, FRAME_RATE) for j in batch]
            cond = torch.from_numpy(np.concatenate([x.stacked() for x in laid]))
            base = torch.from_numpy(np.concatenate([held_pitch(x.pitch).astype(np.float32) for x in laid]))
            lengths = torch.tensor([j.n_frames for j in batch])
            inst = torch.repeat_interleave(torch.tensor([model.instrument_id(j.instrument) for j in batch]), lengths)
            frames += int(lengths.sum())
            z = timed("encoder", sg.encode_packed, cond, inst)
            context = timed("bilstm_context", sg.f0_context_packed, z, lengths)
            seeds = [j.seed for j in batch]
            classes = timed("f0_loop", sample_f0_packed, sg, context, lengths.tolist(), seeds)
            f0_hz = midi_to_hz(base + (torch.from_numpy(classes).float() - 100) / 100)

            params = timed("conv_stack", decode, sg, z, f0_hz, lengths)
            controls = model.synth.get_controls(
                params["amplitude"][None], params["harmonics"][None], params["noise"][None], f0_hz[None]
            )
            split = {k: torch.split(getattr(controls, k), lengths.tolist(), dim=1) for k in vars(controls)}
            for i, job in enumerate(batch):
                row = type(controls)(**{k: split[k][i] for k in split})
                timed("synth", model.synthesize, row, job.seed)
    return dict(times), dict(cpu), frames


def harmonic_drop(sample_rate: int, drop_db: float) -> None:
    """Synth time with the trained bundle's harmonic amplitudes as they are vs below `drop_db` zeroed."""
    import numpy as np
    import torch

    from readdsp.core.kernels.harmonic_bank import render_harmonics

    rng = np.random.default_rng(0)
    model = random_model(sample_rate, 100, {})
    from readdsp.core.render import Renderer

    trained = Renderer.load().model
    n_frames = 250 * 60
    cond = torch.zeros(n_frames, 10)
    cond[:, :6] = 0.5
    cond[:, 6] = torch.from_numpy(rng.integers(55, 80, n_frames // 250).repeat(250) / 127.0).float()
    cond[:, 9] = torch.from_numpy(np.tile(np.linspace(0, 1, 250), n_frames // 250)).float()
    out = trained.synthesis_generator.generate_packed(
        cond, torch.tensor([0]), cond[:, 6] * 127.0, torch.tensor([n_frames]), [0]
    )
    controls = trained.synth.get_controls(
        out["amplitude"][None], out["harmonics"][None], out["noise"][None], out["f0_hz"][None]
    )
    amps = (controls.amplitude[0, :, None] * controls.harmonic_distribution[0]).numpy().astype(np.float32)
    f0 = controls.f0_hz[0].double().numpy()
    floor = amps.max(axis=1, keepdims=True) * 10 ** (drop_db / 20)
    dropped = np.where(amps < floor, 0.0, amps).astype(np.float32)
    hop = sample_rate / 250
    n_samples = int(round(n_frames * hop))
    times = {}
    for name, table in (("as is", amps), (f"below {drop_db:.0f} dB zeroed", dropped)):
        render_harmonics(f0, table, n_samples, hop, sample_rate)
        start = time.perf_counter()
        for _ in range(3):
            render_harmonics(f0, table, n_samples, hop, sample_rate)
        times[name] = (time.perf_counter() - start) / 3
    share = float((amps < floor).mean())
    print(
        f"harmonic kernel on the trained bundle's 60 harmonics at {sample_rate} Hz, 60 s: "
        + ", ".join(f"{k} {60 / v:.0f}x real time" for k, v in times.items())
        + f"; {100 * share:.0f}% of amplitudes are below {drop_db:.0f} dB"
    )
    synth_frames = 250 * 20
    ctrl = model.synth.get_controls(
        torch.zeros(1, synth_frames, 1),
        torch.zeros(1, synth_frames, 100),
        torch.zeros(1, synth_frames, 65),
        torch.full((1, synth_frames, 1), 196.0),
    )
    model.synthesize(ctrl, seed=0)
    start, start_cpu = time.perf_counter(), time.process_time()
    model.synthesize(ctrl, seed=0)
    print(
        f"synth (100 harmonics, all audible at 196 Hz, + noise) at {sample_rate} Hz: "
        f"{20 / (time.perf_counter() - start):.0f}x real time, "
        f"{20 / (time.process_time() - start_cpu):.0f}x per CPU-second"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=360.0)
    parser.add_argument("--sample-rate", type=int, default=48000)
    parser.add_argument("--harmonics", type=int, default=100)
    parser.add_argument("--set", action="append", default=[], help="SynthesisGeneratorConfig override key=value")
    parser.add_argument("--drop-db", type=float, default=-100.0)
    args = parser.parse_args()

    from readdsp.core.midi_io import read_midi
    from readdsp.core.render import Renderer

    overrides = dict(parse_override(text) for text in args.set)
    model = random_model(args.sample_rate, args.harmonics, overrides)
    renderer = Renderer(model)
    with tempfile.TemporaryDirectory() as tmp:
        midi = quartet_midi(Path(tmp), args.seconds)
        fluid_s = fluidsynth_seconds(midi, args.sample_rate)
        plan = renderer.prepare(read_midi(midi))
    jobs = renderer.segment_jobs(plan, 0)
    stage_times(model, jobs[:20])  # warm-up: kernels compiled, allocator primed
    times, cpu, frames = stage_times(model, jobs)
    total, total_cpu = sum(times.values()), sum(cpu.values())
    voice_s = frames / 250
    print(f"config overrides {overrides or 'none'}; {args.harmonics} harmonics at {args.sample_rate} Hz; float32")
    print(f"{plan.performance.duration:.0f} s quartet: {len(jobs)} segments, {voice_s:.0f} voice-seconds generated")
    for stage in STAGES:
        wall_s, cpu_s = times.get(stage, 0.0), cpu.get(stage, 0.0)
        print(f"  {stage:15s} wall {wall_s:7.2f} s  CPU {cpu_s:7.2f} s  {100 * cpu_s / total_cpu:5.1f}% of CPU")
    print(
        f"  total wall {total:.2f} s, CPU {total_cpu:.2f} s: {voice_s / total:.0f}x real time per voice "
        f"(target >= 100x; {voice_s / total_cpu:.0f}x per CPU-second); "
        f"FluidSynth whole process {fluid_s:.2f} s; render only / FluidSynth {total / fluid_s:.2f} "
        "(target whole process <= 3.0)"
    )
    harmonic_drop(args.sample_rate, args.drop_db)


if __name__ == "__main__":
    main()
