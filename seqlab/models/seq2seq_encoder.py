"""The encoder of a sequence-to-sequence model: embeddings and a stacked, optionally bidirectional RNN.

It reads a padded batch of source sentences packed (padding never enters the recurrence) and
returns one state per source position, the mask of real positions, and the top layer's final
states, from which the decoder's first state and the attention-free context vector are made.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqlab.data.padded_batches import pack, padding_mask, unpack
from seqlab.models.seq2seq_configs import Seq2SeqConfig
from seqlab.models.seq2seq_dropout import dropped_source
from seqlab.nn import GRU, LSTM

RECURRENT_LAYERS = {"gru": GRU, "lstm": LSTM}


@dataclass
class EncodedSource:
    """What the decoder may read of a batch of source sentences."""

    states: torch.Tensor  # (B, S, K): the top layer at every position, both directions concatenated; 0 at padding
    mask: torch.Tensor  # (B, S) bool: True at real positions
    forward_final: torch.Tensor  # (B, H): the forward direction's state after the last real token
    backward_final: torch.Tensor | None  # (B, H): the backward direction's state after reading back to token 1

    @property
    def summary(self) -> torch.Tensor:
        """(B, K): the final states of both directions concatenated (Cho et al. 2014's context vector c)."""
        if self.backward_final is None:
            return self.forward_final
        return torch.cat([self.forward_final, self.backward_final], dim=-1)


class RecurrentEncoder(nn.Module):
    """Embeds the source and runs a seqlab.nn GRU/LSTM over it, packed.

    Args:
        config: the vocabulary size, cell, sizes, layers, direction and dropout.

    Shape:
        - source: ``(B, S)`` token ids, padded with ``config.padding_id``
        - lengths: ``(B,)`` real tokens of each sentence, each at least 1
    """

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.source_vocab_size, config.embedding_size, padding_idx=config.padding_id)
        self.rnn = RECURRENT_LAYERS[config.cell](
            config.embedding_size,
            config.hidden_size,
            num_layers=config.encoder_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout if config.encoder_layers > 1 else 0.0,
            weight_drop=config.weight_drop,
        )
        self.config = config
        self.dropout = nn.Dropout(config.dropout)
        self.directions = 2 if config.bidirectional else 1

    def forward(self, source: torch.Tensor, lengths: torch.Tensor) -> EncodedSource:
        embedded = dropped_source(self.embedding, self.dropout, source, self.config)  # (B, S, E)
        packed_states, final = self.rnn(pack(embedded, lengths, batch_first=True))
        states, _ = unpack(packed_states, batch_first=True, total_length=source.size(1))  # (B, S, D*H)
        hidden = final[0] if isinstance(final, tuple) else final  # (L*D, B, H)
        top = hidden[-self.directions :]  # (D, B, H): the last layer's directions
        return EncodedSource(
            states=states,
            mask=padding_mask(lengths.to(source.device), source.size(1), batch_first=True),
            forward_final=top[0],
            backward_final=top[1] if self.directions == 2 else None,
        )
