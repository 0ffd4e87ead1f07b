"""A character-level LSTM language model: embedding, LSTM, dropout, linear over the vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.data.vocab import CharVocab
from seqlab.errors import SeqlabError
from seqlab.nn import LSTM, init
from seqlab.training.checkpoint import (
    CONFIG_FILE,
    VOCAB_FILE,
    load_weights,
    read_config,
    read_vocab,
)
from seqlab.training.config import from_dict

LSTMState = tuple[torch.Tensor, torch.Tensor]


@dataclass
class CharLMConfig:
    """The shape of a :class:`CharLM`; saved as ``config.json`` next to its weights.

    The defaults suit a three-minute run on two CPU cores: one wide layer learns more per
    second than a deeper, narrower stack, and about an epoch of text needs no dropout.
    """

    vocab_size: int  # number of token ids, <unk> included: len(vocab)
    embedding_size: int = 64  # ~100 characters need few dimensions; the LSTM does the work
    hidden_size: int = 384  # in 3 CPU minutes 384 beat 512 (too few steps) and 256 (too small)
    num_layers: int = 1  # stacked LSTM layers
    dropout: float = 0.0  # on embeddings, between layers and before the output layer
    tie_weights: bool = False  # share embedding and output matrices; needs equal sizes
    forget_bias: float = 1.0  # initial LSTM forget-gate bias: remember by default at the start

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embedding_size", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise SeqlabError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.tie_weights and self.embedding_size != self.hidden_size:
            raise SeqlabError(
                f"tie_weights needs embedding_size == hidden_size, got {self.embedding_size} and {self.hidden_size}"
            )


class CharLMOutput(NamedTuple):
    """What :meth:`CharLM.forward` returns; unpacks as ``logits, state, loss``."""

    logits: torch.Tensor  # (T, B, V) unnormalised next-token scores
    state: LSTMState  # (h_n, c_n), each (num_layers, B, H), to pass to the next call
    loss: torch.Tensor | None  # mean cross-entropy in nats per token, when targets are given


class CharLM(nn.Module):
    """Predicts the next character of each stream from the characters so far.

    Args:
        config: the sizes of the layers.

    Shape:
        - tokens: ``(T, B)`` token ids, time first like :class:`torch.nn.LSTM`
        - state: ``(h_0, c_0)``, each ``(num_layers, B, hidden_size)``, or None for zeros
        - targets: ``(T, B)`` the id that follows each input token
        - output logits: ``(T, B, vocab_size)``

    Example:
        >>> model = CharLM(CharLMConfig(vocab_size=10, hidden_size=16))
        >>> tokens = torch.randint(10, (5, 2))
        >>> logits, state, loss = model(tokens, targets=tokens)
        >>> logits.shape, state[0].shape, loss.shape
        (torch.Size([5, 2, 10]), torch.Size([1, 2, 16]), torch.Size([]))
    """

    def __init__(self, config: CharLMConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_size)
        self.dropout = nn.Dropout(config.dropout)
        self.lstm = LSTM(
            config.embedding_size,
            config.hidden_size,
            config.num_layers,
            # torch.nn.LSTM warns when given dropout with a single layer: nothing to drop.
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        init.forget_gate_bias_(self.lstm, config.forget_bias)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)
        if config.tie_weights:
            self.head.weight = self.embedding.weight

    def forward(
        self,
        tokens: torch.Tensor,
        state: LSTMState | None = None,
        targets: torch.Tensor | None = None,
    ) -> CharLMOutput:
        """Scores for the next token at every position, the final state, and the loss.

        Args:
            tokens: input token ids.
            state: the state returned by the previous call, to continue the same streams.
            targets: the next token at each position; when given, the loss is computed.

        Returns:
            A :class:`CharLMOutput`; its ``loss`` is None when ``targets`` is None.
        """
        embedded = self.dropout(self.embedding(tokens))  # (T, B, E)
        hidden, state = self.lstm(embedded, state)  # (T, B, H)
        logits = self.head(self.dropout(hidden))  # (T, B, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())  # (T * B, V)
        return CharLMOutput(logits, state, loss)

    def num_parameters(self) -> int:
        """The number of trainable numbers, counting tied matrices once."""
        return sum(parameter.numel() for parameter in self.parameters())


def load_char_lm(directory: str | Path, *, device: str | torch.device = "cpu") -> tuple[CharLM, CharVocab]:
    """The :class:`CharLM` and vocabulary saved in a checkpoint directory, in eval mode.

    Args:
        directory: a checkpoint written by :func:`~seqlab.training.save_checkpoint`.
        device: where to put the weights, whatever device they were saved from.

    Raises:
        SeqlabError: a file is missing, or the config, vocabulary and weights disagree.
    """
    config_path = Path(directory) / CONFIG_FILE
    config = from_dict(CharLMConfig, read_config(directory).get("model"), source=str(config_path))
    vocab = read_vocab(directory)
    if config.vocab_size != len(vocab):
        raise SeqlabError(f"{config_path}: vocab_size is {config.vocab_size} but {VOCAB_FILE} has {len(vocab)} tokens")
    model = CharLM(config)
    load_weights(model, directory, device)
    return model.eval(), vocab
