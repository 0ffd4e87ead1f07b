"""The language-model classes by architecture name, and building one from its config.

A checkpoint's ``config.json`` has a ``model`` section holding ``architecture`` (a key of
:data:`ARCHITECTURES`) and the fields of that architecture's config dataclass
(:mod:`seqlab.models.lm_configs`). Loading a trained model from a checkpoint is the
language-model task's business (:mod:`seqlab.tasks.lm.checkpoint`): a model knows nothing
of how it is trained or saved.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from seqlab.models.fixed_window_lm import FixedWindowLanguageModel
from seqlab.models.lm_configs import MODEL_CONFIGS
from seqlab.models.rnn_lm import RNNLanguageModel

# name -> (config dataclass, model class)
ARCHITECTURES: dict[str, tuple[type, type[nn.Module]]] = {
    "rnn": (MODEL_CONFIGS["rnn"], RNNLanguageModel),
    "fixed-window": (MODEL_CONFIGS["fixed-window"], FixedWindowLanguageModel),
}


def build_model(config: Any) -> nn.Module:
    """A freshly initialised model of the architecture ``config`` belongs to."""
    for config_class, model_class in ARCHITECTURES.values():
        if type(config) is config_class:
            return model_class(config)
    raise TypeError(f"not a language-model config: {type(config).__name__}")
