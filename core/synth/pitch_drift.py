"""A player's slow pitch wander: a stationary Ornstein-Uhlenbeck process (cents) on the frame grid.

No player holds a pitch to a tenth of a cent. On 257 sustained Philharmonia bass-clarinet notes the evaluation does
not use (an instrument played without vibrato), the pitch in a note's sustained middle (0.9-1.7 s) spreads by a
median 2.0 cents (1.4826 x MAD; quartiles 1.3 and 3.0), with an autocorrelation of 0.83, 0.65, 0.42 and 0.17 at 20,
48, 100 and 200 ms. This process, measured over the same windows, gives 2.0 cents and 0.85, 0.67, 0.39 and 0.05.
The Synthesis Generator draws f0 from a narrow nucleus, which keeps a vibrato-0 note steady and also removes this
wander (0.05 cents on a clarinet note), so it is added back after sampling.
"""

from __future__ import annotations

import numpy as np

#: The process's standard deviation and correlation time (its autocorrelation is exp(-lag / DRIFT_TIME_S)).
DRIFT_CENTS = 2.7
DRIFT_TIME_S = 0.25
_STREAM = 0x5D81F7  # keeps the drift's random stream apart from the f0 sampler's


def pitch_drift_cents(
    n_frames: int, frame_rate: int, seed: int, cents: float = DRIFT_CENTS, time_s: float = DRIFT_TIME_S
) -> np.ndarray:
    """`n_frames` of wander (cents): standard deviation `cents`, autocorrelation exp(-lag / `time_s`)."""
    if n_frames <= 0 or cents <= 0.0:
        return np.zeros(max(n_frames, 0))
    n = n_frames + int(np.ceil(10 * time_s * frame_rate))  # the spectral shaping is circular: pad past its memory
    white = np.random.default_rng([seed, _STREAM]).standard_normal(n)
    gain = 1.0 / np.sqrt(1.0 + (2.0 * np.pi * np.fft.rfftfreq(n, 1.0 / frame_rate) * time_s) ** 2)
    wander = np.fft.irfft(np.fft.rfft(white) * gain, n)[:n_frames]
    full_gain = 1.0 / (1.0 + (2.0 * np.pi * np.fft.fftfreq(n, 1.0 / frame_rate) * time_s) ** 2)
    return wander * cents / np.sqrt(full_gain.mean())
