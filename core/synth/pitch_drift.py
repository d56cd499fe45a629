"""A player's slow pitch wander: a stationary Ornstein-Uhlenbeck process (cents) on the frame grid.

No player holds a pitch to a tenth of a cent. On 257 sustained Philharmonia bass-clarinet notes the evaluation does
not use (an instrument played without vibrato), the pitch in a note's sustained middle (0.9-1.7 s) spreads by a
median 2.0 cents (1.4826 x MAD; quartiles 1.3 and 3.0), with an autocorrelation of 0.83, 0.65, 0.42 and 0.17 at 20,
48, 100 and 200 ms. This process, measured over the same windows, gives 2.1 cents and 0.86, 0.67, 0.39 and 0.05.
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
    # The spectral shaping is circular: pad past the process's memory, to a power of two so the FFTs stay cheap
    # (a render makes one per segment, hundreds for a quartet).
    n = 1 << int(np.ceil(np.log2(n_frames + 10 * time_s * frame_rate)))
    power = 1.0 / (1.0 + (2.0 * np.pi * np.fft.rfftfreq(n, 1.0 / frame_rate) * time_s) ** 2)
    bins = np.full(len(power), 2.0)
    bins[[0, -1]] = 1.0  # DC and Nyquist stand once in the full spectrum, every other bin twice
    variance = float(power @ bins) / n
    white = np.random.default_rng([seed, _STREAM]).standard_normal(n)
    wander = np.fft.irfft(np.fft.rfft(white) * np.sqrt(power), n)[:n_frames]
    return wander * cents / np.sqrt(variance)
