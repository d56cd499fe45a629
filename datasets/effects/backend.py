"""What the dataset builder needs from a processor (pedalboard here, REAPER's batch converter in reaper_ext)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from readdsp.datasets.effects.chain_spec import ChainSpec


class EffectBackend(Protocol):
    """Renders each split's clean input through the effect.

    `name` goes into the manifest; `compensates_latency` says whether the processor already removed plugin
    latency (pedalboard does; REAPER's batch converter does not, so the builder shifts by the measured lag).
    The two hints finish the builder's messages when an output is unchanged or clips, in the backend's terms.
    """

    name: str
    compensates_latency: bool
    unchanged_hint: str
    clip_hint: str

    def process(self, spec: ChainSpec, inputs: dict[str, np.ndarray], work_dir: Path) -> dict[str, np.ndarray]:
        """Mono float32 outputs by split name (at least as long as each input)."""
        ...
