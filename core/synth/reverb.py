"""Learned per-instrument FIR reverb (MIDI-DDSP `reverb_modules`): embedded IRs, FFT convolution, + dry."""

from __future__ import annotations

import torch
from torch import nn

# Longer signals are convolved in blocks so one FFT never spans a whole long file.
SINGLE_FFT_MAX_SAMPLES = 1 << 22


def fft_convolve(
    audio: torch.Tensor,
    ir: torch.Tensor,
    keep_tail: bool = False,
    max_single_fft: int = SINGLE_FFT_MAX_SAMPLES,
) -> torch.Tensor:
    """Causal convolution of audio [B, N] with ir [B, L] or [L] -> [B, N] ([B, N+L-1] with `keep_tail`)."""
    import scipy.fft  # here, not at the top: renders are dry by default, and scipy.fft costs 0.2 s to import

    n, length = audio.shape[-1], ir.shape[-1]
    out_len = n + length - 1 if keep_tail else n
    if n <= max_single_fft:
        size = scipy.fft.next_fast_len(n + length - 1, real=True)
        wet = torch.fft.irfft(torch.fft.rfft(audio, n=size) * torch.fft.rfft(ir, n=size), n=size)
        return wet[..., :out_len]
    # overlap-add in blocks of at least the IR length
    block = max(length, min(max_single_fft, 1 << 18))
    size = scipy.fft.next_fast_len(block + length - 1, real=True)
    ir_spectrum = torch.fft.rfft(ir, n=size)
    out = torch.zeros(*audio.shape[:-1], n + length - 1 + size, device=audio.device, dtype=audio.dtype)
    for start in range(0, n, block):
        piece = audio[..., start : start + block]
        out[..., start : start + size] += torch.fft.irfft(torch.fft.rfft(piece, n=size) * ir_spectrum, n=size)
    return out[..., :out_len]


class Reverb(nn.Module):
    """One learned impulse response per instrument id; output = dry + IR * dry (first IR tap masked to 0).

    At inference (`decay=True`, or `decay=None` while the module is in eval mode) the IR is multiplied by 1
    for the first `flat_s` seconds and by exp(-4 t), t in [0, 1], over the remainder (MIDI-DDSP's rule).
    """

    def __init__(
        self,
        sample_rate: float,
        length_s: float = 3.0,
        n_instruments: int = 1,
        flat_s: float = 1.0,
        decay_rate: float = 4.0,
    ):
        super().__init__()
        self.sample_rate = float(sample_rate)
        self.length = int(round(length_s * self.sample_rate))
        self.flat = min(self.length, int(round(flat_s * self.sample_rate)))
        self.decay_rate = float(decay_rate)
        self.impulse_responses = nn.Embedding(int(n_instruments), self.length)
        nn.init.normal_(self.impulse_responses.weight, std=1e-6)
        mask = torch.ones(self.length)
        mask[0] = 0.0
        self.register_buffer("tap_mask", mask, persistent=False)
        envelope = torch.ones(self.length)
        remainder = self.length - self.flat
        if remainder > 0:
            envelope[self.flat :] = torch.exp(-self.decay_rate * torch.linspace(0.0, 1.0, remainder))
        self.register_buffer("decay_envelope", envelope, persistent=False)

    def impulse_response(self, instrument_ids: torch.Tensor, decay: bool | None = None) -> torch.Tensor:
        """IRs [len(ids), length] as applied (first tap masked, decay envelope at inference)."""
        decay = (not self.training) if decay is None else decay
        ir = self.impulse_responses(instrument_ids.long().reshape(-1)) * self.tap_mask
        return ir * self.decay_envelope if decay else ir

    def forward(
        self,
        audio: torch.Tensor,
        instrument_ids: torch.Tensor | int = 0,
        decay: bool | None = None,
        keep_tail: bool = False,
    ) -> torch.Tensor:
        """audio [B, N], instrument ids [B] (or one int) -> dry + wet [B, N] ([B, N+L-1] with `keep_tail`)."""
        ids = torch.as_tensor(instrument_ids, device=audio.device).reshape(-1)
        if ids.numel() == 1:
            ids = ids.expand(audio.shape[0])
        wet = fft_convolve(audio, self.impulse_response(ids, decay), keep_tail=keep_tail)
        if keep_tail:
            return wet + nn.functional.pad(audio, (0, self.length - 1))
        return wet + audio

    def mix_by_instrument(
        self,
        voices: torch.Tensor,
        instrument_ids: torch.Tensor,
        decay: bool | None = None,
        keep_tail: bool = False,
    ) -> torch.Tensor:
        """Sum dry voices [V, N] per instrument, reverberate each sum once (reverb is LTI) and mix -> [N]."""
        ids = torch.as_tensor(instrument_ids, device=voices.device).reshape(-1)
        unique = torch.unique(ids)
        sums = torch.stack([voices[ids == i].sum(0) for i in unique])
        return self.forward(sums, unique, decay=decay, keep_tail=keep_tail).sum(0)
