"""The REAPER backend: split inputs go through `reaper -batchconvert` with the spec's .RfxChain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from readdsp.core.atomic import write_wav
from readdsp.core.errors import ReaDDSPError
from readdsp.datasets.effects.chain_spec import ChainSpec
from readdsp.datasets.effects.user_audio import validate_audio_file
from readdsp.reaper_ext.batch_convert import BatchConfig, run_batch_convert, write_batch_list


def process_with_reaper(
    spec: ChainSpec, inputs: dict[str, np.ndarray], work_dir: Path, timeout: float = 600.0
) -> dict[str, np.ndarray]:
    """Render every split through REAPER in one batch; returns mono float32 outputs by split name."""
    if spec.reaper_fxchain is None:
        raise ReaDDSPError("the REAPER backend needs 'reaper': {'fxchain': 'file.RfxChain'} in the spec", spec.path)
    if not spec.reaper_fxchain.is_file():
        raise ReaDDSPError(f"FX chain file not found: {spec.reaper_fxchain}", spec.path)
    work_dir.mkdir(parents=True, exist_ok=True)
    pairs = []
    for name, audio in inputs.items():
        src, dst = work_dir / f"{name}_clean.wav", work_dir / f"{name}_reaper.wav"
        write_wav(src, audio, spec.sample_rate, subtype="PCM_24")
        pairs.append((src, dst))
    config = BatchConfig(spec.sample_rate, 1, spec.tail_seconds, spec.reaper_fxchain)
    list_path = write_batch_list(work_dir / "batch.txt", pairs, config)
    run_batch_convert(list_path, [dst for _, dst in pairs], timeout=timeout)
    outputs: dict[str, np.ndarray] = {}
    for (name, _), (_, dst) in zip(inputs.items(), pairs, strict=True):
        info = validate_audio_file(dst)
        if info.samplerate != spec.sample_rate:
            raise ReaDDSPError(f"REAPER wrote {info.samplerate} Hz, expected {spec.sample_rate} Hz", dst)
        audio, _ = sf.read(str(dst), dtype="float32", always_2d=True)
        outputs[name] = audio.mean(axis=1)
    return outputs
