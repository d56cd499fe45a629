"""Impulse responses made in code (seeded decaying noise), so example specs run without any IR files."""

from __future__ import annotations

import numpy as np
from scipy import signal as sps


def generated_ir(sr: int, seconds: float = 1.0, rt60: float = 0.6, seed: int = 0, band_hz=(80.0, 8000.0)) -> np.ndarray:
    """Band-limited exponentially decaying noise (decay by 60 dB over `rt60` s), unit energy, float32."""
    rng = np.random.default_rng(seed)
    n = max(1, int(seconds * sr))
    t = np.arange(n) / sr
    ir = rng.standard_normal(n) * np.exp(-6.9078 * t / max(rt60, 1e-3))
    high = min(band_hz[1], 0.45 * sr)
    sos = sps.butter(2, [band_hz[0], high], btype="bandpass", fs=sr, output="sos")
    ir = sps.sosfilt(sos, ir)
    ir /= max(np.sqrt(np.sum(ir**2)), 1e-12)
    return ir.astype(np.float32)
