"""Language models built from seqlab.nn layers, and their registry by architecture name."""

from seqlab.models.fixed_window_lm import FixedWindowLanguageModel, FixedWindowLMConfig
from seqlab.models.output import LanguageModelOutput
from seqlab.models.registry import ARCHITECTURES, build_model, load_language_model, model_config, model_section
from seqlab.models.rnn_lm import RNNLanguageModel, RNNLMConfig

__all__ = [
    "ARCHITECTURES",
    "FixedWindowLMConfig",
    "FixedWindowLanguageModel",
    "LanguageModelOutput",
    "RNNLMConfig",
    "RNNLanguageModel",
    "build_model",
    "load_language_model",
    "model_config",
    "model_section",
]
