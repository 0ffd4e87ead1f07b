"""The saved shape of each language-model architecture: the ``model`` section of ``config.json``.

Torch-free, so that the command line can list every setting as a flag without importing
torch. The models themselves are in :mod:`seqlab.models.rnn_lm` and
:mod:`seqlab.models.fixed_window_lm`; :data:`MODEL_CONFIGS` names each architecture.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from seqlab.configs import from_dict
from seqlab.errors import SeqlabError

CELL_KINDS = ("lstm", "gru", "rnn")


@dataclass
class RNNLMConfig:
    """The shape and regularisation of an :class:`RNNLanguageModel`; saved in ``config.json``.

    The defaults are the character-level model of ``seqlab lm train``'s three-minute demo;
    the presets in :mod:`seqlab.tasks.lm.presets` set the papers' values.
    """

    vocab_size: int  # number of token ids, <unk> included: len(vocab)
    cell: str = "lstm"  # "lstm", "gru" or "rnn" (tanh)
    embedding_size: int = 64  # ~100 characters need few dimensions; the recurrent layers do the work
    hidden_size: int = 384  # units of every layer but the last when tie_weights (that one has embedding_size)
    num_layers: int = 1  # stacked recurrent layers
    dropout: float = 0.0  # on the last layer's output, before the linear layer (AWD: dropout)
    dropout_input: float = 0.0  # on the embeddings fed to the first layer (AWD: dropouti)
    dropout_between: float = 0.0  # on the output of every layer but the last (AWD: dropouth)
    dropout_embedding: float = 0.0  # whole words dropped from the embedding matrix (AWD: dropoute)
    weight_drop: float = 0.0  # DropConnect on each layer's hidden-to-hidden weights (AWD: wdrop)
    locked_dropout: bool = False  # one dropout mask per sequence (AWD) instead of one per step (Zaremba)
    activation_penalty: float = 0.0  # AR weight alpha on the dropped last-layer output (AWD: 2)
    temporal_penalty: float = 0.0  # TAR weight beta on the raw last-layer output (AWD: 1)
    tie_weights: bool = False  # the output layer reuses the embedding matrix
    init_range: float | None = None  # every parameter uniform in ±init_range (Zaremba); None: see below
    embedding_init_range: float = 0.1  # without init_range: embedding and output weights uniform in ±this
    forget_bias: float | None = 1.0  # initial LSTM forget-gate bias; None keeps the initialisation's

    def __post_init__(self) -> None:
        if self.cell not in CELL_KINDS:
            raise SeqlabError(f"cell must be one of {sorted(CELL_KINDS)}, got {self.cell!r}")
        for name in ("vocab_size", "embedding_size", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("dropout", "dropout_input", "dropout_between", "dropout_embedding", "weight_drop"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise SeqlabError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        for name in ("activation_penalty", "temporal_penalty", "embedding_init_range"):
            if getattr(self, name) < 0:
                raise SeqlabError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.init_range is not None and self.init_range <= 0:
            raise SeqlabError(f"init_range must be positive or None, got {self.init_range}")

    def layer_sizes(self) -> list[tuple[int, int]]:
        """``(input_size, hidden_size)`` of each recurrent layer, first to last."""
        outputs = [self.hidden_size] * self.num_layers
        if self.tie_weights:
            outputs[-1] = self.embedding_size
        inputs = [self.embedding_size, *outputs[:-1]]
        return list(zip(inputs, outputs))


@dataclass
class FixedWindowLMConfig:
    """The shape and regularisation of a :class:`FixedWindowLanguageModel`; saved in ``config.json``.

    The defaults are the paper's best Brown-corpus model without mixture (n = 6, m = 60, h = 100,
    direct connections); the paper trained without dropout, using weight decay instead.
    """

    vocab_size: int  # number of token ids, <unk> included: len(vocab); the padding id is vocab_size
    context_size: int = 5  # n - 1: tokens read per prediction, the current input token included
    embedding_size: int = 60  # m: dimensions of each token's feature vector C(w)
    hidden_size: int = 100  # h: tanh units between the embeddings and the output
    direct_connections: bool = True  # Bengio's W x term: the embeddings also feed the output layer directly
    dropout: float = 0.0  # on the concatenated embeddings and on the tanh layer, in training only
    init_range: float = 0.1  # embedding, output and direct weights uniform in ±this; biases 0; H, d torch's default

    def __post_init__(self) -> None:
        for name in ("vocab_size", "context_size", "embedding_size", "hidden_size"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not isinstance(self.direct_connections, bool):
            raise SeqlabError(f"direct_connections must be true or false, got {self.direct_connections!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise SeqlabError(f"dropout must be in [0, 1), got {self.dropout}")
        if not self.init_range > 0:
            raise SeqlabError(f"init_range must be positive, got {self.init_range}")


# architecture name -> its config dataclass
MODEL_CONFIGS: dict[str, type] = {"rnn": RNNLMConfig, "fixed-window": FixedWindowLMConfig}


def model_config(section: dict[str, Any], *, source: str) -> Any:
    """The config dataclass described by a ``model`` section (``architecture`` plus fields).

    Raises:
        SeqlabError: the architecture is unknown, or a field is unknown or invalid; the
            message names ``source``.
    """
    fields = dict(section)
    architecture = fields.pop("architecture", None)
    if architecture not in MODEL_CONFIGS:
        raise SeqlabError(f"{source}: model architecture must be one of {sorted(MODEL_CONFIGS)}, got {architecture!r}")
    return from_dict(MODEL_CONFIGS[architecture], fields, source=source)


def model_section(config: Any) -> dict[str, Any]:
    """The ``model`` section of ``config.json`` for a model config dataclass."""
    for name, config_class in MODEL_CONFIGS.items():
        if type(config) is config_class:
            return {"architecture": name, **dataclasses.asdict(config)}
    raise TypeError(f"not a language-model config: {type(config).__name__}")
