"""The translation models by architecture name: the ``model`` section of ``config.json`` says which."""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from seqlab.configs import from_dict
from seqlab.errors import SeqlabError
from seqlab.models.seq2seq import Seq2Seq
from seqlab.models.seq2seq_configs import Seq2SeqConfig
from seqlab.models.transformer_configs import TransformerConfig
from seqlab.models.transformer_seq2seq import TransformerSeq2Seq

# name -> (config dataclass, model class)
ARCHITECTURES: dict[str, tuple[type, type[nn.Module]]] = {
    "rnn": (Seq2SeqConfig, Seq2Seq),
    "transformer": (TransformerConfig, TransformerSeq2Seq),
}


def build_model(section: dict[str, Any], *, source: str) -> nn.Module:
    """A freshly initialised model from a ``model`` section: ``architecture`` and its config's fields."""
    fields = dict(section)
    name = fields.pop("architecture", "rnn")
    if name not in ARCHITECTURES:
        raise SeqlabError(f"{source}: unknown architecture {name!r}; choose from {', '.join(sorted(ARCHITECTURES))}")
    config_class, model_class = ARCHITECTURES[name]
    return model_class(from_dict(config_class, fields, source=source))


def describe_model(model: nn.Module) -> str:
    """The model in a few words, for the log."""
    config = model.config
    if isinstance(config, TransformerConfig):
        layers = f"{config.num_encoder_layers}+{config.num_decoder_layers}"
        return (
            f"Transformer d_model {config.d_model}, {layers} layers, {config.nhead} heads, ff {config.dim_feedforward}"
        )
    direction = "bidirectional" if config.bidirectional else "unidirectional"
    return (f"{config.cell.upper()} {config.hidden_size}, {config.encoder_layers}+{config.decoder_layers} layers, "
            f"{direction} encoder, attention {config.attention}, embedding {config.embedding_size}")  # fmt: skip


def model_section(model: nn.Module) -> dict[str, Any]:
    """The ``model`` section that rebuilds ``model``'s architecture."""
    for name, (_, model_class) in ARCHITECTURES.items():
        if type(model) is model_class:
            return {"architecture": name, **dataclasses.asdict(model.config)}
    raise TypeError(f"not a translation model: {type(model).__name__}")
