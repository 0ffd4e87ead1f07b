"""The recurrent language model of Zaremba et al. (2014) and AWD-LSTM (Merity et al. 2017).

One model covers both papers and the character-level models: an embedding, a stack of
recurrent layers, and a linear layer over the vocabulary, with every regulariser of the
AWD-LSTM recipe as an option::

    tokens ─ embedding ─(embedding dropout: whole words)─(input dropout)─┐
        ┌───────────────────────────────────────────────────────────────┘
        └─ layer 1 ─(between-layer dropout)─ layer 2 ─ ... ─ layer L ─(output dropout)─ linear ─ logits
           (DropConnect on each W_hh)                        AR on the dropped output,
                                                             TAR on the raw output

The dropouts are variational (one mask per sequence) when ``locked_dropout`` is on, as in
AWD-LSTM, and ordinary (a fresh mask per step and unit) as in Zaremba et al. otherwise.
With ``tie_weights`` the output layer reuses the embedding matrix (Press & Wolf 2017;
Inan et al. 2017); the last recurrent layer then has ``embedding_size`` units, as in
AWD-LSTM, so the other layers may be wider.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.errors import SeqlabError
from seqlab.models.lm_configs import RNNLMConfig
from seqlab.models.output import LanguageModelOutput
from seqlab.nn import GRU, LSTM, RNN, activation_penalty, embedding_dropout, init, locked_dropout
from seqlab.nn import temporal_activation_penalty as temporal_penalty

CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}


class RNNLanguageModel(nn.Module):
    """Predicts the next token of each stream from the tokens so far.

    Args:
        config: the layer sizes and regularisers.

    Shape:
        - tokens: ``(T, B)`` token ids, time first like :class:`torch.nn.LSTM`
        - state: one entry per layer, each that layer's recurrent state (``(h, c)`` for an
          LSTM, ``h`` otherwise, each ``(1, B, H_l)``), or None for zeros
        - targets: ``(T, B)`` the id that follows each input token
        - output logits ``(T, B, vocab_size)``, features ``(T, B, H_L)``

    Example:
        >>> model = RNNLanguageModel(RNNLMConfig(vocab_size=10, hidden_size=16, num_layers=2))
        >>> tokens = torch.randint(10, (5, 2))
        >>> out = model(tokens, targets=tokens)
        >>> out.logits.shape, len(out.state), out.loss.shape
        (torch.Size([5, 2, 10]), 2, torch.Size([]))
    """

    def __init__(self, config: RNNLMConfig):
        super().__init__()
        self.config = config
        layer_class = CELLS[config.cell]
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_size)
        self.layers = nn.ModuleList(
            layer_class(inputs, hidden, weight_drop=config.weight_drop) for inputs, hidden in config.layer_sizes()
        )
        self.head = nn.Linear(config.layer_sizes()[-1][1], config.vocab_size)
        if config.tie_weights:
            self.head.weight = self.embedding.weight
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        config = self.config
        if config.init_range is not None:
            for parameter in self.parameters():
                nn.init.uniform_(parameter, -config.init_range, config.init_range)
        else:
            nn.init.uniform_(self.embedding.weight, -config.embedding_init_range, config.embedding_init_range)
            nn.init.uniform_(self.head.weight, -config.embedding_init_range, config.embedding_init_range)
            nn.init.zeros_(self.head.bias)
        if config.cell == "lstm" and config.forget_bias is not None:
            for layer in self.layers:
                init.forget_gate_bias_(layer, config.forget_bias)

    def _dropout(self, x: torch.Tensor, p: float) -> torch.Tensor:
        """Locked or ordinary dropout of ``x`` ``(T, B, H)``, as the config says."""
        if not self.training or p == 0:
            return x
        if self.config.locked_dropout:
            return locked_dropout(x, p, training=True)
        return F.dropout(x, p, training=True)

    def forward(
        self,
        tokens: torch.Tensor,
        state: list[Any] | None = None,
        targets: torch.Tensor | None = None,
    ) -> LanguageModelOutput:
        """Scores for the next token at every position, the final state, and the losses.

        Args:
            tokens: input token ids.
            state: the state returned by the previous call, to continue the same streams.
            targets: the next token at each position; when given, the losses are computed.

        Returns:
            A :class:`LanguageModelOutput`. In training mode ``loss`` adds the AR and TAR
            penalties to the cross-entropy; in eval mode it is the cross-entropy.
        """
        config = self.config
        x = embedding_dropout(self.embedding, tokens, config.dropout_embedding, self.training)  # (T, B, E)
        x = self._dropout(x, config.dropout_input)
        states = [None] * len(self.layers) if state is None else list(state)
        if len(states) != len(self.layers):
            raise SeqlabError(f"state has {len(states)} layers, the model {len(self.layers)}")
        last = len(self.layers) - 1
        for index, layer in enumerate(self.layers):
            x, states[index] = layer(x, states[index])  # (T, B, H_l)
            if index < last:
                x = self._dropout(x, config.dropout_between)
        features = x  # (T, B, H_L)
        dropped = self._dropout(features, config.dropout)
        logits = self.head(dropped)  # (T, B, V)
        loss = cross_entropy = None
        if targets is not None:
            cross_entropy = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
            loss = cross_entropy
            if self.training and config.activation_penalty > 0:
                loss = loss + activation_penalty(dropped, config.activation_penalty)
            if self.training and config.temporal_penalty > 0:
                loss = loss + temporal_penalty(features, config.temporal_penalty)
        return LanguageModelOutput(logits, states, loss, cross_entropy, features)

    def num_parameters(self) -> int:
        """The number of trainable numbers, counting tied matrices once."""
        return sum(parameter.numel() for parameter in self.parameters())
