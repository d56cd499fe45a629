"""The compiled harmonic oscillator bank (no autograd, no torch): a Chebyshev recurrence across harmonics.

Same maths as the differentiable torch path in `harmonic.py` (see there), evaluated frame interval by
frame interval with hop-sized scratch buffers only, so memory stays O(hop) however long the render is.
sin(k*phi) for k = 1..K comes from one sin and one cos per sample via
sin((k+1)phi) = 2 cos(phi) sin(k phi) - sin((k-1) phi).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from readdsp.core.thread_policy import in_lanes

TWO_PI = 2.0 * math.pi


@numba.njit(cache=True)
def _interval_starts(n_samples: int, hop: float, n_frames: int) -> np.ndarray:
    """starts[j] = first sample n with min(floor(n / hop), T-1) == j; starts[T] = n_samples."""
    starts = np.empty(n_frames + 1, dtype=np.int64)
    for j in range(n_frames):
        n = int(math.ceil(j * hop))
        while n > 0 and math.floor((n - 1) / hop) >= j:
            n -= 1
        while math.floor(n / hop) < j:
            n += 1
        starts[j] = min(n, n_samples)
    starts[0] = 0
    starts[n_frames] = n_samples
    return starts


@numba.njit(cache=True)
def _phase_at_interval_starts(
    f0_hz: np.ndarray, starts: np.ndarray, hop: float, sample_rate: float, initial_phase: float
) -> np.ndarray:
    """Float64 phase (wrapped to [0, 2pi)) at the first sample of every frame interval.

    Within interval j the frequency is linear in the sample index, so the sum of its phase increments has a
    closed form: count*omega_0 + delta*count*(count-1)/2.
    """
    n_frames = f0_hz.shape[0]
    phases = np.empty(n_frames + 1, dtype=np.float64)
    phi = initial_phase
    scale = TWO_PI / sample_rate
    for j in range(n_frames):
        phases[j] = phi
        count = starts[j + 1] - starts[j]
        j1 = min(j + 1, n_frames - 1)
        t0 = starts[j] / hop - j
        omega0 = (f0_hz[j] * (1.0 - t0) + f0_hz[j1] * t0) * scale
        delta = (f0_hz[j1] - f0_hz[j]) / hop * scale
        phi += count * omega0 + delta * (count * (count - 1) / 2.0)
        phi -= TWO_PI * math.floor(phi / TWO_PI)
    phases[n_frames] = phi
    return phases


@numba.njit(cache=True, nogil=True)
def _render_intervals(
    out: np.ndarray,
    f0_hz: np.ndarray,
    amplitudes: np.ndarray,
    starts: np.ndarray,
    phases: np.ndarray,
    first: int,
    last: int,
    hop: float,
    sample_rate: float,
    window: bool,
) -> None:
    n_frames, n_harmonics = amplitudes.shape
    nyquist = 0.5 * sample_rate
    scale = TWO_PI / sample_rate
    max_len = 2
    for j in range(first, last):
        max_len = max(max_len, starts[j + 1] - starts[j])
    freq = np.empty(max_len, dtype=np.float64)
    weight = np.empty(max_len, dtype=np.float32)
    s_prev = np.empty(max_len, dtype=np.float32)
    s_cur = np.empty(max_len, dtype=np.float32)
    two_cos = np.empty(max_len, dtype=np.float32)
    u = np.empty(max_len, dtype=np.float32)
    v = np.empty(max_len, dtype=np.float32)
    for j in range(first, last):
        n0 = starts[j]
        count = starts[j + 1] - n0
        if count <= 0:
            continue
        j1 = min(j + 1, n_frames - 1)
        top = 0  # highest harmonic with any amplitude in this interval
        for k in range(n_harmonics):
            if amplitudes[j, k] != 0.0 or amplitudes[j1, k] != 0.0:
                top = k + 1
        if top == 0:
            for i in range(count):
                out[n0 + i] = 0.0
            continue
        # Per-sample sin/cos of the phase and of pi*t by complex rotation (exact for a linear frequency ramp),
        # seeded from the float64 phase at the interval start: 3 sincos per interval instead of 2 per sample.
        t0 = n0 / hop - j
        f_start = f0_hz[j] * (1.0 - t0) + f0_hz[j1] * t0
        f_step = (f0_hz[j1] - f0_hz[j]) / hop
        z = complex(math.cos(phases[j]), math.sin(phases[j]))
        r = complex(math.cos(f_start * scale), math.sin(f_start * scale))
        r_step = complex(math.cos(f_step * scale), math.sin(f_step * scale))
        c = complex(math.cos(math.pi * t0), math.sin(math.pi * t0))
        c_step = complex(math.cos(math.pi / hop), math.sin(math.pi / hop))
        for i in range(count):
            s_cur[i] = np.float32(z.imag)
            two_cos[i] = np.float32(2.0 * z.real)
            z = z * r
            r = r * r_step
            if window:
                weight[i] = np.float32(0.5 - 0.5 * c.real)
                c = c * c_step
            else:
                weight[i] = np.float32(t0 + i / hop)
        f_first = f_start
        f_last = f_start + f_step * (count - 1)
        f_min = min(f_first, f_last)
        f_max = max(f_first, f_last)
        for i in range(count):
            freq[i] = f_start + f_step * i
            s_prev[i] = 0.0
            u[i] = 0.0
            v[i] = 0.0
        for k in range(1, top + 1):
            if k * f_min >= nyquist:
                break
            a0 = amplitudes[j, k - 1]
            d = amplitudes[j1, k - 1] - a0
            if k * f_max < nyquist:
                for i in range(count):
                    s = s_cur[i]
                    u[i] += a0 * s
                    v[i] += d * s
                    s_cur[i] = two_cos[i] * s - s_prev[i]
                    s_prev[i] = s
            else:
                for i in range(count):
                    s = s_cur[i]
                    if k * freq[i] < nyquist:
                        u[i] += a0 * s
                        v[i] += d * s
                    s_cur[i] = two_cos[i] * s - s_prev[i]
                    s_prev[i] = s
        for i in range(count):
            out[n0 + i] = u[i] + weight[i] * v[i]


def render_harmonics(
    f0_hz: np.ndarray,
    harmonic_amplitudes: np.ndarray,
    n_samples: int,
    hop: float,
    sample_rate: float,
    window: bool = True,
    initial_phase: float = 0.0,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """One voice: f0 [T] (Hz), per-harmonic amplitudes [T, K] -> (audio [n_samples] float32, end phase).

    `out`, if given, is a contiguous float32 [n_samples] array the audio is written into (and returned).
    """
    f0 = np.ascontiguousarray(f0_hz, dtype=np.float64)
    amps = np.ascontiguousarray(harmonic_amplitudes, dtype=np.float32)
    starts = _interval_starts(int(n_samples), float(hop), f0.shape[0])
    phases = _phase_at_interval_starts(f0, starts, float(hop), float(sample_rate), float(initial_phase))
    if out is None:
        out = np.empty(int(n_samples), dtype=np.float32)
    elif out.shape != (int(n_samples),) or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError("out must be a contiguous float32 array of n_samples")
    n_frames = f0.shape[0]
    n_chunks = max(1, min(n_frames, 4 * numba.get_num_threads()))
    per_chunk = (n_frames + n_chunks - 1) // n_chunks
    hop, sample_rate, window = float(hop), float(sample_rate), bool(window)

    def run_chunk(chunk: int) -> None:  # a plain thread per chunk, not a numba prange kernel (compile cost)
        first, last = chunk * per_chunk, min(n_frames, (chunk + 1) * per_chunk)
        if first < last:
            _render_intervals(out, f0, amps, starts, phases, first, last, hop, sample_rate, window)

    in_lanes(run_chunk, n_chunks)
    return out, float(phases[-1])
