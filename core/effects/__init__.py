"""Effect models at inference: `load_model(path).process(audio, sr)`, `EffectChain([...])`, one file format."""

from readdsp.core.effects.base import EffectModel
from readdsp.core.effects.chain import EffectChain
from readdsp.core.effects.esr import esr
from readdsp.core.effects.model_file import REGISTRY, load_model, save_model

__all__ = ["REGISTRY", "EffectChain", "EffectModel", "esr", "load_model", "save_model"]
