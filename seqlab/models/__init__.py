"""Language models built from seqlab.nn layers, their configs, and their registry by architecture name.

The configs (:mod:`seqlab.models.lm_configs`) import no torch; the models do. Names are
loaded when first used, so that importing a config does not import torch.
"""

from __future__ import annotations

from seqlab.lazy_exports import lazy_exports

_EXPORTS = {
    "ARCHITECTURES": "seqlab.models.registry",
    "build_model": "seqlab.models.registry",
    "FixedWindowLanguageModel": "seqlab.models.fixed_window_lm",
    "FixedWindowLMConfig": "seqlab.models.lm_configs",
    "LanguageModelOutput": "seqlab.models.output",
    "MODEL_CONFIGS": "seqlab.models.lm_configs",
    "model_config": "seqlab.models.lm_configs",
    "model_section": "seqlab.models.lm_configs",
    "RNNLanguageModel": "seqlab.models.rnn_lm",
    "RNNLMConfig": "seqlab.models.lm_configs",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
