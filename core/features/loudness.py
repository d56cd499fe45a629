"""A-weighted loudness in dB on the frame grid, computed the way DDSP's `compute_loudness` does."""

from __future__ import annotations

import librosa
import numpy as np
import torch

from readdsp.core.errors import ReaDDSPError

#: Loudness floor: values lie in [-DB_RANGE, ...], 0 dB = power of a full-scale signal (DDSP `DB_RANGE`).
DB_RANGE = 80.0
#: DDSP's reference setting: 512-sample window (32 ms) at 16 kHz.
REFERENCE_SAMPLE_RATE = 16000
REFERENCE_N_FFT = 512
_FRAMES_PER_CHUNK = 2048


def loudness_n_frames(n_samples: int, sample_rate: int, frame_rate: int = 250) -> int:
    """Frames on the feature grid for `n_samples`: `int(round(n_samples / sample_rate * frame_rate))`.

    Frame `i` is centred on time `i / frame_rate` (DDSP's 'center' padding); DDSP itself returns one
    more frame (centred on the last sample boundary), which this grid drops so that a synth rendering
    `n_frames * sample_rate / frame_rate` samples maps back to exactly `n_frames` frames.
    """
    return int(round(n_samples / sample_rate * frame_rate))


def default_n_fft(sample_rate: int) -> int:
    """The window length (samples) that spans DDSP's 32 ms at `sample_rate` (512 at 16 kHz)."""
    return int(round(REFERENCE_N_FFT * sample_rate / REFERENCE_SAMPLE_RATE))


def _check_args(n_samples: int, sample_rate: int, frame_rate: int, n_fft: int | None) -> int:
    if sample_rate <= 0 or frame_rate <= 0:
        raise ReaDDSPError(f"sample_rate ({sample_rate}) and frame_rate ({frame_rate}) must be positive")
    if frame_rate > sample_rate:
        raise ReaDDSPError(f"frame_rate {frame_rate} is above the sample rate {sample_rate}")
    window = default_n_fft(sample_rate) if n_fft is None else int(n_fft)
    if window < 2:
        raise ReaDDSPError(f"n_fft must be at least 2, got {n_fft}")
    return window


def _fft_size(window: int) -> int:
    """The enclosing power of two, as `tf.signal.stft(fft_length=None)` uses."""
    return 1 << (window - 1).bit_length()


def _frame_starts(n_frames: int, sample_rate: int, frame_rate: int) -> np.ndarray:
    """Start of each frame in the signal padded by window//2 at both ends (= its centre in the original)."""
    return np.round(np.arange(n_frames) * (sample_rate / frame_rate)).astype(np.int64)


def _weights(sample_rate: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Periodic Hann window and per-bin linear A-weighting (librosa, floored at -80 dB as in DDSP)."""
    fft_size = _fft_size(window)
    hann = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(window) / window)
    frequencies = librosa.fft_frequencies(sr=sample_rate, n_fft=fft_size)
    with np.errstate(divide="ignore"):  # librosa takes log10(0) for the 0 Hz bin, then floors it at -80 dB
        a_weight = 10.0 ** (librosa.A_weighting(frequencies) / 10.0)
    return hann, a_weight


def _power_to_db(power: np.ndarray) -> np.ndarray:
    return np.maximum(10.0 * np.log10(np.maximum(power, 10.0 ** (-DB_RANGE / 10.0))), -DB_RANGE)


def a_weighted_loudness(
    audio: np.ndarray, sample_rate: int, frame_rate: int = 250, n_fft: int | None = None
) -> np.ndarray:
    """Perceptual loudness in dB per frame ([n_frames] float32, floor -80 dB), as DDSP v3 `compute_loudness`.

    Recipe (DDSP, ref_db 0, range 80): zero-pad window//2 on both sides, Hann-window frames of `n_fft`
    samples centred on `i / frame_rate` s (FFT size = enclosing power of two), power |X|^2 times the
    librosa A-weighting in linear scale, mean over all bins 0..Nyquist, 10*log10, floor at -80 dB.
    `n_fft` is the window length in samples; None = 32 ms (512 at 16 kHz, DDSP's default).
    At 16 kHz the values equal DDSP's. At other rates the mean power is scaled by 16000 / sample_rate,
    so a signal gives the same loudness at any sample rate (the bin mean otherwise grows with the rate).
    Frame count: see `loudness_n_frames`. Non-integer hops (e.g. 44.1 kHz / 250) use rounded centres.
    """
    signal = np.asarray(audio, dtype=np.float64)
    if signal.ndim != 1:
        raise ReaDDSPError(f"loudness needs mono audio as a 1-D array, got shape {signal.shape}")
    if not np.all(np.isfinite(signal)):
        raise ReaDDSPError("audio contains NaN or infinite samples")
    window = _check_args(signal.size, sample_rate, frame_rate, n_fft)
    n_frames = loudness_n_frames(signal.size, sample_rate, frame_rate)
    if n_frames == 0:
        return np.zeros(0, dtype=np.float32)
    padded = np.pad(signal, (window // 2, window // 2 + window))
    starts = _frame_starts(n_frames, sample_rate, frame_rate)
    hann, a_weight = _weights(sample_rate, window)
    fft_size = _fft_size(window)
    scale = REFERENCE_SAMPLE_RATE / sample_rate
    mean_power = np.empty(n_frames)
    offsets = np.arange(window)
    for begin in range(0, n_frames, _FRAMES_PER_CHUNK):
        chunk = starts[begin : begin + _FRAMES_PER_CHUNK]
        frames = padded[chunk[:, None] + offsets[None, :]] * hann
        spectrum = np.fft.rfft(frames, n=fft_size, axis=-1)
        power = spectrum.real**2 + spectrum.imag**2
        mean_power[begin : begin + chunk.size] = (power * a_weight).mean(axis=-1) * scale
    return _power_to_db(mean_power).astype(np.float32)


def a_weighted_loudness_torch(
    audio: torch.Tensor, sample_rate: int, frame_rate: int = 250, n_fft: int | None = None
) -> torch.Tensor:
    """Differentiable twin of `a_weighted_loudness`: [samples] or [batch, samples] -> [..., frames]."""
    if audio.dim() not in (1, 2):
        raise ReaDDSPError(f"loudness needs a [samples] or [batch, samples] tensor, got shape {tuple(audio.shape)}")
    window = _check_args(audio.shape[-1], sample_rate, frame_rate, n_fft)
    n_frames = loudness_n_frames(audio.shape[-1], sample_rate, frame_rate)
    padded = torch.nn.functional.pad(audio, (window // 2, window // 2 + window))
    starts = torch.from_numpy(_frame_starts(n_frames, sample_rate, frame_rate)).to(audio.device)
    index = starts[:, None] + torch.arange(window, device=audio.device)[None, :]
    hann, a_weight = (torch.as_tensor(w, dtype=audio.dtype, device=audio.device) for w in _weights(sample_rate, window))
    spectrum = torch.fft.rfft(padded[..., index] * hann, n=_fft_size(window), dim=-1)
    power = spectrum.real**2 + spectrum.imag**2
    mean_power = (power * a_weight).mean(dim=-1) * (REFERENCE_SAMPLE_RATE / sample_rate)
    db = 10.0 * torch.log10(torch.clamp(mean_power, min=10.0 ** (-DB_RANGE / 10.0)))
    return torch.clamp(db, min=-DB_RANGE)
