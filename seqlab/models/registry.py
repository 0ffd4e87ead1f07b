"""The language-model architectures by name, and loading a trained one from a checkpoint.

A checkpoint's ``config.json`` has a ``model`` section holding ``architecture`` (a key of
:data:`ARCHITECTURES`) and the fields of that architecture's config dataclass.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqlab.data.vocab import Vocab
from seqlab.errors import SeqlabError
from seqlab.models.fixed_window_lm import FixedWindowLanguageModel, FixedWindowLMConfig
from seqlab.models.rnn_lm import RNNLanguageModel, RNNLMConfig
from seqlab.training.checkpoint import CONFIG_FILE, VOCAB_FILE, load_weights, read_config, read_vocab
from seqlab.training.config import from_dict

# name -> (config dataclass, model class)
ARCHITECTURES: dict[str, tuple[type, type[nn.Module]]] = {
    "rnn": (RNNLMConfig, RNNLanguageModel),
    "fixed-window": (FixedWindowLMConfig, FixedWindowLanguageModel),
}


def model_config(section: dict[str, Any], *, source: str) -> Any:
    """The config dataclass described by a ``model`` section (``architecture`` plus fields).

    Raises:
        SeqlabError: the architecture is unknown, or a field is unknown or invalid; the
            message names ``source``.
    """
    fields = dict(section)
    architecture = fields.pop("architecture", None)
    if architecture not in ARCHITECTURES:
        raise SeqlabError(f"{source}: model architecture must be one of {sorted(ARCHITECTURES)}, got {architecture!r}")
    return from_dict(ARCHITECTURES[architecture][0], fields, source=source)


def model_section(config: Any) -> dict[str, Any]:
    """The ``model`` section of ``config.json`` for a model config dataclass."""
    for name, (config_class, _) in ARCHITECTURES.items():
        if type(config) is config_class:
            return {"architecture": name, **dataclasses.asdict(config)}
    raise TypeError(f"not a language-model config: {type(config).__name__}")


def build_model(config: Any) -> nn.Module:
    """A freshly initialised model of the architecture ``config`` belongs to."""
    for config_class, model_class in ARCHITECTURES.values():
        if type(config) is config_class:
            return model_class(config)
    raise TypeError(f"not a language-model config: {type(config).__name__}")


def load_language_model(
    directory: str | Path, *, device: str | torch.device = "cpu", which: str = "last"
) -> tuple[nn.Module, Vocab]:
    """The model and vocabulary saved in a checkpoint directory, in eval mode, on ``device``.

    Weights saved on any device load on any other. ``which`` picks the ``"last"`` weights
    or the ``"best"`` (lowest held-out loss at an epoch end).

    Raises:
        SeqlabError: a file is missing, or the config, vocabulary and weights disagree.
    """
    config_path = Path(directory) / CONFIG_FILE
    config = model_config(read_config(directory).get("model") or {}, source=str(config_path))
    vocab = read_vocab(directory)
    if config.vocab_size != len(vocab):
        raise SeqlabError(f"{config_path}: vocab_size is {config.vocab_size} but {VOCAB_FILE} has {len(vocab)} tokens")
    model = build_model(config)
    load_weights(model, directory, device, which=which)
    return model.eval(), vocab
