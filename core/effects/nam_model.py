"""`.nam` files (Neural Amp Modeler) as effect models; running them needs neural-amp-modeler."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from readdsp.core.effects.base import EffectModel
from readdsp.core.errors import ReaDDSPError

MISSING_NAM = "running .nam models needs neural-amp-modeler: pip install 'readdsp[effects]'"


class NamModel(EffectModel):
    """A NAM network from its self-describing JSON (architecture, config, weights, sample_rate).

    `process` keeps the last receptive-field inputs between calls, so a WaveNet streams exactly; an LSTM's
    hidden state is not carried, so it restarts at each call.
    """

    kind = "nam"

    def __init__(self, data: dict[str, Any]):
        super().__init__(int(data.get("sample_rate") or 48000))
        self.data = data
        self._net: Any = None
        self._history = np.zeros(0)

    def _network(self) -> Any:
        if self._net is None:
            try:
                from nam.models import init_from_nam
            except ImportError as err:
                raise ReaDDSPError(MISSING_NAM) from err
            self._net = init_from_nam(self.data)
            self._net.eval()
            self._history = np.zeros(max(int(getattr(self._net, "receptive_field", 1)) - 1, 0))
        return self._net

    def _process(self, audio: np.ndarray) -> np.ndarray:
        import torch

        net = self._network()
        joined = np.concatenate([self._history, audio])
        with torch.no_grad():
            out = net(torch.as_tensor(joined, dtype=torch.float32), pad_start=True).numpy()
        if len(self._history):
            self._history = joined[len(joined) - len(self._history) :]
        return out[len(joined) - len(audio) :].astype(np.float64)

    def reset(self) -> None:
        self._history = np.zeros_like(self._history)

    def arrays(self) -> dict[str, np.ndarray]:
        return {}

    @classmethod
    def from_arrays(cls, sample_rate: int, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> NamModel:
        raise ValueError(".nam models live in .nam files, not safetensors")


def load_nam(path: Path) -> NamModel:
    """Read a .nam file: JSON with 'architecture', 'config' and a finite 'weights' list; nothing is executed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ReaDDSPError(f"not a valid .nam file ({err})", path) from err
    if not isinstance(data, dict) or "architecture" not in data or "weights" not in data:
        raise ReaDDSPError(".nam file lacks 'architecture' or 'weights'", path)
    weights = np.asarray(data["weights"], dtype=np.float64) if isinstance(data["weights"], list) else None
    if weights is None or weights.ndim != 1 or not np.all(np.isfinite(weights)):
        raise ReaDDSPError(".nam file's 'weights' is not a list of finite numbers", path)
    rate = data.get("sample_rate") or 48000
    if not isinstance(rate, int | float) or not 8000 <= rate <= 384000:
        raise ReaDDSPError(f".nam file's sample_rate {rate!r} is outside 8000..384000", path)
    return NamModel(data)
