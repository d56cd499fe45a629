"""The expressive performance model: LSTMs over notes for velocity, articulation, timing and pitch, from a bundle.

After the seed paper's three networks (pitch, velocity, duration), each an LSTM over the note sequence:

- velocity: score features -> a distribution over the note's velocity offset from its performance's mean velocity
  (41 classes, -60..+60; bidirectional: the whole score is known). The score cannot tell a performance's overall
  level (piece, piano, player), so the network learns the contour and the caller gives the level: `humanize` keeps
  the part's own mean velocity;
- duration: score features + the note's velocity -> log2 articulation ratio classes (performed / score duration);
- timing: score features + velocity -> onset deviation classes (quarter notes, against a smoothed tempo);
- pitch: previous pitches, durations and metrical phase -> the next pitch and duration (left to right), for
  `generate`.

Each head predicts classes, and outputs are sampled (never the mean), so the spread of human playing is kept. The
draws of neighbouring notes are correlated (a Gaussian AR(1) copula), as a player's deviations are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.signal import lfilter
from scipy.special import ndtr
from torch import nn

from readdsp.core.bundle import bundled_dir, load_bundle
from readdsp.core.errors import ReaDDSPError
from readdsp.core.models.bundle_config import MAX_SIZE, setting_in
from readdsp.core.score_features import N_FEATURES, ScoreNotes, score_features

FAMILY = "performance"
DEFAULT_PERFORMANCE_BUNDLE = "performance_small"
#: Durations (quarters) the pitch network writes, as classes.
DURATION_CLASSES = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


def velocity_bins() -> np.ndarray:
    """Centres of the 41 velocity-offset classes (velocity minus the performance's mean): -60, -57, ..., +60."""
    return 3.0 * np.arange(-20, 21)


def articulation_bins() -> np.ndarray:
    """Centres of the log2 articulation-ratio classes: -3 .. +1.2 in steps of 0.15."""
    return np.round(np.arange(-3.0, 1.2001, 0.15), 4)


def timing_bins() -> np.ndarray:
    """Centres of the onset-deviation classes: -0.3 .. 0.3 quarter notes in steps of 0.025."""
    return np.round(np.arange(-0.3, 0.3001, 0.025), 4)


def class_of(values: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest class centre for each value (NaN -> -100, the ignored target)."""
    values = np.asarray(values, float)
    index = np.abs(np.nan_to_num(values, nan=1e9)[:, None] - centres[None, :]).argmin(1)
    return np.where(np.isnan(values), -100, index)


class NoteLSTM(nn.Module):
    """A bidirectional LSTM over one part's notes: per-note inputs -> per-note class logits."""

    def __init__(self, n_inputs: int, n_classes: int, hidden: int = 64):
        super().__init__()
        self.project = nn.Sequential(nn.Linear(n_inputs, hidden), nn.LeakyReLU(0.1))
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.LeakyReLU(0.1), nn.Linear(hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.lstm(self.project(x))[0])


class PitchLSTM(nn.Module):
    """A left-to-right LSTM over a melodic line: (pitch, duration class, bar phase) -> next pitch and duration."""

    def __init__(self, hidden: int = 64):
        super().__init__()
        self.pitch_embedding = nn.Embedding(128, 24)
        self.duration_embedding = nn.Embedding(len(DURATION_CLASSES), 8)
        self.lstm = nn.LSTM(24 + 8 + 3, hidden, batch_first=True)
        self.pitch_head = nn.Linear(hidden, 128)
        self.duration_head = nn.Linear(hidden, len(DURATION_CLASSES))

    def forward(self, pitch, duration, phase, state=None):
        x = torch.cat([self.pitch_embedding(pitch), self.duration_embedding(duration), phase], dim=-1)
        out, state = self.lstm(x, state)
        return self.pitch_head(out), self.duration_head(out), state


def metrical_inputs(bar_phase: torch.Tensor) -> torch.Tensor:
    """[..., 3]: sin and cos of the bar phase (0..1), and whether the note starts the bar."""
    angle = 2 * np.pi * bar_phase
    return torch.stack([torch.sin(angle), torch.cos(angle), (bar_phase < 1e-3).float()], dim=-1)


def build_networks(hidden: int = 64) -> dict[str, nn.Module]:
    """The four networks, untrained, keyed by their bundle module names."""
    return {
        "velocity": NoteLSTM(N_FEATURES, len(velocity_bins()), hidden),
        "duration": NoteLSTM(N_FEATURES + 1, len(articulation_bins()), hidden),
        "timing": NoteLSTM(N_FEATURES + 1, len(timing_bins()), hidden),
        "pitch": PitchLSTM(hidden),
    }


def windowed_logits(net: nn.Module, x: np.ndarray, window: int = 128, context: int = 32) -> np.ndarray:
    """Run `net` over a long sequence as a batch of overlapping windows (the centre of each kept): fast on CPU."""
    with single_thread():
        return _windowed(net, x, window, context)


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread here: these small sequential products only lose time to thread hand-offs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _windowed(net: nn.Module, x: np.ndarray, window: int, context: int) -> np.ndarray:
    n = len(x)
    if n <= window + 2 * context:
        with torch.inference_mode():
            return net(torch.from_numpy(x)[None]).numpy()[0]
    starts = np.arange(0, n, window)
    span = window + 2 * context
    padded = np.zeros((n + 2 * context + window, x.shape[1]), np.float32)
    padded[context : context + n] = x
    batch = np.stack([padded[s : s + span] for s in starts])
    with torch.inference_mode():
        logits = net(torch.from_numpy(batch)).numpy()
    return logits[:, context : context + window].reshape(-1, logits.shape[-1])[:n]


def correlated_uniforms(n: int, rng: np.random.Generator, rho: float) -> np.ndarray:
    """n uniforms with correlated neighbours: Phi of a unit-variance Gaussian AR(1) process (coefficient rho)."""
    noise = rng.standard_normal(n)
    scale = np.sqrt(1 - rho**2)
    if n:
        noise[0] /= scale  # so the process starts at unit variance
    z = lfilter([scale], [1.0, -rho], noise)
    return ndtr(z)


def sample_classes(logits: np.ndarray, uniforms: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Inverse-CDF draw of one class per row from softmax(logits / temperature)."""
    scaled = logits / max(temperature, 1e-3)
    probs = np.exp(scaled - scaled.max(1, keepdims=True))
    cdf = np.cumsum(probs, 1)
    cdf /= cdf[:, -1:]
    return np.minimum((cdf < uniforms[:, None]).sum(1), logits.shape[1] - 1)


def expected_value(logits: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The mean of each row's class distribution (the point prediction the metrics score)."""
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    return probs @ centres


@dataclass
class NotePrediction:
    """Per-note outputs, in the notes' order: velocity 1..127, articulation ratio, onset deviation (quarters)."""

    velocity: np.ndarray
    articulation: np.ndarray
    deviation: np.ndarray


class PerformanceModel:
    """The networks of a `performance` bundle, ready for inference."""

    def __init__(self, config: dict, networks: dict[str, nn.Module]):
        self.config = config
        self.networks = networks
        for net in networks.values():
            net.eval()

    @classmethod
    def load(cls, name_or_path: str | Path | None = None) -> PerformanceModel:
        """Load the bundled performance model, or one by path; a ReaDDSPError if it is not a performance bundle."""
        path = Path(name_or_path) if name_or_path else bundled_dir() / f"{DEFAULT_PERFORMANCE_BUNDLE}.safetensors"
        bundle = load_bundle(path)
        if bundle.family != FAMILY:
            raise ReaDDSPError(f"not a performance model bundle (model family {bundle.family!r})", path)
        config = bundle.config | {
            "hidden": setting_in(bundle.config, "hidden", 64, (1, MAX_SIZE), path, whole=True),
            "temperature": setting_in(bundle.config, "temperature", 1.0, (0.05, 10.0), path),
            "copula_rho": setting_in(bundle.config, "copula_rho", 0.6, (-0.99, 0.99), path),
            "velocity_mean": setting_in(bundle.config, "velocity_mean", 64.0, (1.0, 127.0), path),
        }
        networks = build_networks(int(config["hidden"]))
        for name, net in networks.items():
            try:
                net.load_state_dict(bundle.states[name])
            except (KeyError, RuntimeError) as err:
                raise ReaDDSPError(f"performance bundle does not fit its networks ({err})", path) from None
        return cls(config, networks)

    def score_logits(self, notes: ScoreNotes, velocity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Articulation and timing logits given the score and each note's velocity (1..127)."""
        x = np.concatenate([score_features(notes), (velocity / 127.0)[:, None].astype(np.float32)], axis=1)
        return windowed_logits(self.networks["duration"], x), windowed_logits(self.networks["timing"], x)

    def mean_velocity(self, mean_velocity: float | None) -> float:
        """The level the velocity offsets are added to: the caller's (the part's own mean), else the bundle's."""
        return float(self.config.get("velocity_mean", 64.0)) if mean_velocity is None else float(mean_velocity)

    def predict(
        self, notes: ScoreNotes, seed: int = 0, temperature: float | None = None, mean_velocity: float | None = None
    ) -> NotePrediction:
        """Sampled velocity (offsets around `mean_velocity`), articulation and timing for one part (notes in score
        order); the temperature defaults to the bundle's, calibrated on validation pieces so the velocity spread
        matches the humans'."""
        rng = np.random.default_rng(seed)
        temperature = float(self.config.get("temperature", 1.0)) if temperature is None else temperature
        rho = float(self.config.get("copula_rho", 0.6))
        velocity_logits = windowed_logits(self.networks["velocity"], score_features(notes))
        offset = velocity_bins()[
            sample_classes(velocity_logits, correlated_uniforms(len(notes), rng, rho), temperature)
        ]
        offset = offset + rng.uniform(-1.5, 1.5, len(notes))
        velocity = np.clip(self.mean_velocity(mean_velocity) + offset - offset.mean(), 1, 127)
        duration_logits, timing_logits = self.score_logits(notes, velocity)
        ratio_class = sample_classes(duration_logits, correlated_uniforms(len(notes), rng, rho), temperature)
        deviation_class = sample_classes(timing_logits, correlated_uniforms(len(notes), rng, rho), temperature)
        return NotePrediction(
            velocity=velocity,
            articulation=2.0 ** articulation_bins()[ratio_class],
            deviation=timing_bins()[deviation_class],
        )

    def expected(self, notes: ScoreNotes, mean_velocity: float | None = None) -> NotePrediction:
        """Point predictions (each distribution's mean; the velocity offsets centred on `mean_velocity`, as
        `humanize` does; duration and timing given the expected velocity)."""
        offset = expected_value(windowed_logits(self.networks["velocity"], score_features(notes)), velocity_bins())
        velocity = np.clip(self.mean_velocity(mean_velocity) + offset - offset.mean(), 1, 127)
        duration_logits, timing_logits = self.score_logits(notes, velocity)
        return NotePrediction(
            velocity=velocity,
            articulation=2.0 ** expected_value(duration_logits, articulation_bins()),
            deviation=expected_value(timing_logits, timing_bins()),
        )
