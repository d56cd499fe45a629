"""The built-in backend: a chain spec rendered with pedalboard (effects, IRs, VST3 by path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pedalboard

from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.effects.chain_spec import ChainSpec
from readdsp.datasets.effects.generated_ir import generated_ir
from readdsp.datasets.effects.user_audio import read_mono


def _convolution(effect: dict[str, Any], sr: int, spec_path: Path) -> pedalboard.Plugin:
    if "ir" in effect:
        ir_path = Path(effect["ir"])
        if not ir_path.is_file():
            raise ReaDDSPError(f"impulse response not found: {ir_path}", spec_path)
        ir = read_mono(ir_path, sr)
    else:
        ir = generated_ir(sr, **effect["generated_ir"])
    return pedalboard.Convolution(
        np.ascontiguousarray(ir, np.float32), mix=float(effect.get("mix", 1.0)), sample_rate=sr
    )


def _vst3(effect: dict[str, Any], spec_path: Path) -> pedalboard.Plugin:
    plugin_path = Path(effect["path"])
    if not plugin_path.exists():
        raise ReaDDSPError(f"VST3 plugin not found: {plugin_path}", spec_path)
    try:
        plugin = pedalboard.load_plugin(str(plugin_path))
    except Exception as err:  # pedalboard raises ImportError/RuntimeError for unloadable plugins
        raise ReaDDSPError(f"cannot load VST3 plugin {plugin_path} ({err})", spec_path) from err
    for name, value in (effect.get("parameters") or {}).items():
        if not hasattr(plugin, name):
            raise ReaDDSPError(f"VST3 plugin {plugin_path.name} has no parameter {name!r}", spec_path)
        setattr(plugin, name, value)
    return plugin


def _plugins(effect: dict[str, Any], sr: int, spec_path: Path) -> list[pedalboard.Plugin]:
    kind = effect["type"]
    params = {k: v for k, v in effect.items() if k != "type"}
    simple = {
        "distortion": pedalboard.Distortion,
        "clipping": pedalboard.Clipping,
        "compressor": pedalboard.Compressor,
        "chorus": pedalboard.Chorus,
        "phaser": pedalboard.Phaser,
        "delay": pedalboard.Delay,
        "reverb": pedalboard.Reverb,
        "pitch_shift": pedalboard.PitchShift,
        "highpass": pedalboard.HighpassFilter,
        "lowpass": pedalboard.LowpassFilter,
        "gain": pedalboard.Gain,
    }
    if kind in simple:
        return [simple[kind](**params)]
    if kind == "drive":  # an overdrive pedal: low cut, tanh drive, tone low-pass, output level
        return [
            pedalboard.HighpassFilter(float(params.get("low_cut_hz", 100.0))),
            pedalboard.Distortion(float(params.get("drive_db", 18.0))),
            pedalboard.LowpassFilter(float(params.get("tone_hz", 4000.0))),
            pedalboard.Gain(float(params.get("level_db", -6.0))),
        ]
    if kind == "convolution":
        return [_convolution(effect, sr, spec_path)]
    if kind == "vst3":
        return [_vst3(effect, spec_path)]
    raise ReaDDSPError(f"unknown effect type {kind!r}", spec_path)


def build_board(spec: ChainSpec) -> pedalboard.Pedalboard:
    """A fresh pedalboard for the spec (fresh = LFOs and delay lines start from rest)."""
    plugins: list[pedalboard.Plugin] = []
    for effect in spec.effects:
        plugins += _plugins(effect, spec.sample_rate, spec.path)
    return pedalboard.Pedalboard(plugins)


def process(spec: ChainSpec, audio: np.ndarray) -> np.ndarray:
    """Run mono float32 audio through a fresh board; output has the input's length (pad it for tails)."""
    board = build_board(spec)
    out = board(np.asarray(audio, np.float32)[None, :], spec.sample_rate, reset=True)
    return np.asarray(out, np.float32).mean(axis=0)


class PedalboardBackend:
    """The built-in backend: the spec's `chain` through pedalboard, a fresh board per split."""

    name = "builtin"
    compensates_latency = True
    unchanged_hint = "check the spec's chain"
    clip_hint = "lower the chain's output gain or --level"

    def process(self, spec: ChainSpec, inputs: dict[str, np.ndarray], work_dir: Path) -> dict[str, np.ndarray]:
        if not spec.effects:
            where = "; a spec with only a 'reaper' section needs --backend reaper" if spec.reaper_fxchain else ""
            raise ReaDDSPError(f"the spec's chain is empty, so the output would equal the input{where}", spec.path)
        return {name: process(spec, audio) for name, audio in inputs.items()}
