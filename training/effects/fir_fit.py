"""Fit a learned FIR: least squares by conjugate gradients on FFT convolutions (exact for LTI effects)."""

from __future__ import annotations

import time

import numpy as np
from scipy import fft


def fit_fir(
    x: np.ndarray,
    y: np.ndarray,
    length: int,
    max_iterations: int = 200,
    max_seconds: float = 300.0,
    ridge: float = 1e-6,
) -> np.ndarray:
    """Taps h (len `length`) minimising ||x*h - y||^2 + ridge*||h||^2, started from a spectral-ratio estimate.

    x should end with at least `length` samples of silence (our dataset inputs end with the tail), so the full
    convolution and the N-sample target coincide.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    n = len(x)
    nfft = fft.next_fast_len(n + length, real=True)
    spec_x = fft.rfft(x, nfft)
    power = np.abs(spec_x) ** 2
    spec_y = fft.rfft(y, nfft)
    lam = ridge * float(power.mean())

    def normal(h: np.ndarray) -> np.ndarray:
        return fft.irfft(power * fft.rfft(h, nfft), nfft)[:length] + lam * h

    rhs = fft.irfft(np.conj(spec_x) * spec_y, nfft)[:length]
    h = fft.irfft(np.conj(spec_x) * spec_y / (power + lam + 1e-3 * power.mean()), nfft)[:length]
    residual = rhs - normal(h)
    direction = residual.copy()
    rs = float(residual @ residual)
    start = time.monotonic()
    for _ in range(max_iterations):
        if rs <= 1e-20 * float(rhs @ rhs) or time.monotonic() - start > max_seconds:
            break
        ad = normal(direction)
        alpha = rs / float(direction @ ad)
        h += alpha * direction
        residual -= alpha * ad
        rs_new = float(residual @ residual)
        direction = residual + (rs_new / rs) * direction
        rs = rs_new
    return h.astype(np.float32)
