"""Sentence classification, many-to-one: a whole sentence in, one label (the stars of a review) out.

Two families of model, one class::

    tokens ─ embedding ─(dropout)─┬─ mean of the real tokens' vectors ────────────────┬─(dropout)─ linear ─ logits
                                  └─ RNN/GRU/LSTM, stacked, bidirectional, packed ─ pool ┘

- ``encoder="average"``: the sentence is the mean of its word vectors, classified by one softmax
  layer: VecAvg of Socher et al. 2013 (Table 1) and the neural bag of words (NBOW) that Iyyer et al.
  2015 deepen into their DAN. Word order is invisible to it.
- ``encoder="rnn" | "gru" | "lstm"``: a recurrent network reads the sentence, packed so that padding
  never enters the recurrence, and its states are pooled into one vector: ``last`` (the final state,
  as the LSTM and Bi-LSTM baselines of Tai et al. 2015 classify; a bidirectional encoder gives the
  forward state after the last token and the backward state after the first), ``mean`` or ``max``
  over the real positions of the top layer (max pooling as in Collobert et al. 2011 and the BiLSTM-max
  of Conneau et al. 2017).

The embeddings may start random or from pretrained word vectors
(:func:`seqlab.embeddings.transfer.pretrained_matrix` then :meth:`SentenceClassifier.load_pretrained_embeddings`),
and be frozen or fine-tuned (``config.freeze_embeddings``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seqlab.data.padded_batches import pack, padding_mask, unpack
from seqlab.errors import SeqlabError
from seqlab.models.classifier_configs import ClassifierConfig
from seqlab.nn import GRU, LSTM, RNN

RECURRENT_LAYERS = {"rnn": RNN, "gru": GRU, "lstm": LSTM}


class ClassifierOutput(NamedTuple):
    """The result of ``model(tokens, lengths, labels)``; unpacks as ``logits, loss``."""

    logits: torch.Tensor  # (B, C) unnormalised class scores
    loss: torch.Tensor | None  # mean cross-entropy, nats per sentence; None without labels


class SentenceClassifier(nn.Module):
    """Scores every class for each sentence of a padded batch.

    Args:
        config: the vocabulary and class counts, the encoder, its pooling, sizes and dropout.

    Shape:
        - tokens: ``(B, T)`` token ids, padded (with anything) after each sentence's end
        - lengths: ``(B,)`` real tokens of each sentence, each at least 1
        - labels: ``(B,)`` class ids in ``[0, num_classes)``
        - output logits ``(B, num_classes)``

    Example:
        >>> config = ClassifierConfig(vocab_size=20, num_classes=5, embedding_size=8, hidden_size=6)
        >>> model = SentenceClassifier(config)
        >>> tokens, lengths = torch.tensor([[3, 4, 5], [6, 7, 0]]), torch.tensor([3, 2])
        >>> out = model(tokens, lengths, labels=torch.tensor([4, 0]))
        >>> out.logits.shape, out.loss.shape
        (torch.Size([2, 5]), torch.Size([]))
    """

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_size, padding_idx=config.padding_id)
        self.embedding.weight.requires_grad_(not config.freeze_embeddings)
        self.rnn = None
        if config.encoder in RECURRENT_LAYERS:
            self.rnn = RECURRENT_LAYERS[config.encoder](
                config.embedding_size,
                config.hidden_size,
                num_layers=config.num_layers,
                bidirectional=config.bidirectional,
                batch_first=True,
            )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.sentence_size, config.num_classes)

    def forward(
        self, tokens: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor | None = None
    ) -> ClassifierOutput:
        """Class scores for each sentence, and the loss when the labels are given.

        Args:
            tokens: the sentences' token ids; what follows each sentence's length is never read.
            lengths: how many tokens of each row are real.
            labels: the class of each sentence; when given, the loss is computed.

        Returns:
            A :class:`ClassifierOutput`; ``loss`` is ``F.cross_entropy(logits, labels)``.
        """
        if lengths.shape != (tokens.size(0),):
            raise SeqlabError(f"lengths must be ({tokens.size(0)},), one per sentence, got {tuple(lengths.shape)}")
        if lengths.numel() and not 1 <= int(lengths.min()) <= int(lengths.max()) <= tokens.size(1):
            raise SeqlabError(f"lengths must be in [1, {tokens.size(1)}], got {lengths.tolist()}")
        embedded = self.dropout(self.embedding(tokens))  # (B, T, E)
        mask = padding_mask(lengths.to(tokens.device), tokens.size(1), batch_first=True)  # (B, T)
        if self.rnn is None:
            sentence = mean_over_real(embedded, mask)  # (B, E)
        else:
            sentence = self._encode(embedded, lengths, mask)  # (B, D*H)
        logits = self.head(self.dropout(sentence))  # (B, C)
        loss = None if labels is None else F.cross_entropy(logits, labels)
        return ClassifierOutput(logits, loss)

    def _encode(self, embedded: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The recurrent encoder's pooled sentence vector ``(B, D*H)`` of ``embedded`` ``(B, T, E)``."""
        packed_states, final = self.rnn(pack(embedded, lengths, batch_first=True))
        if self.config.pooling == "last":
            hidden = final[0] if isinstance(final, tuple) else final  # (L*D, B, H)
            directions = 2 if self.config.bidirectional else 1
            return torch.cat(list(hidden[-directions:]), dim=-1)  # the top layer's directions side by side
        states, _ = unpack(packed_states, batch_first=True, total_length=embedded.size(1))  # (B, T, D*H)
        if self.config.pooling == "mean":
            return mean_over_real(states, mask)
        return max_over_real(states, mask)

    def load_pretrained_embeddings(self, matrix: torch.Tensor | np.ndarray) -> None:
        """Copy word vectors into the embedding, one row per token id; frozen if the config says so.

        The padding row is copied too but never read: the encoders skip padding positions.

        Args:
            matrix: ``(vocab_size, embedding_size)`` rows, e.g. from
                :func:`seqlab.embeddings.transfer.pretrained_matrix`; cast to the embedding's dtype.
        """
        matrix = torch.as_tensor(matrix)
        expected = tuple(self.embedding.weight.shape)
        if tuple(matrix.shape) != expected:
            raise SeqlabError(f"pretrained embeddings must be {expected} (vocab, embedding), got {tuple(matrix.shape)}")
        with torch.no_grad():
            self.embedding.weight.copy_(matrix)


def mean_over_real(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of each sentence's vectors over its real positions.

    Shape:
        states ``(B, T, K)``, mask ``(B, T)`` bool (every row with a real position); output ``(B, K)``.
    """
    kept = states.masked_fill(~mask[..., None], 0)  # padding may hold anything, even nan
    return kept.sum(dim=1) / mask.sum(dim=1, keepdim=True).to(states.dtype)


def max_over_real(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The elementwise maximum of each sentence's vectors over its real positions.

    Shape:
        states ``(B, T, K)``, mask ``(B, T)`` bool (every row with a real position); output ``(B, K)``.
    """
    return states.masked_fill(~mask[..., None], float("-inf")).amax(dim=1)
