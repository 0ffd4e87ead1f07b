"""The dropout of an RNN encoder–decoder: standard or locked masks, whole words, DropConnect.

Three settings of :class:`~seqlab.models.seq2seq_configs.Seq2SeqConfig`, all the identity in
evaluation mode and all scaling what they keep by ``1 / (1 - p)``:

- ``dropout`` with ``dropout_kind``: on the embedded tokens (source and target) and on the
  decoder's output features. ``"standard"`` draws a fresh mask at every position;
  ``"locked"`` one mask per sentence, shared by all its positions (Gal & Ghahramani 2016, §4).
  Between stacked layers the RNN's own dropout stays per position with either kind (Gal &
  Ghahramani lock it there too; the presets stack no layers).
- ``word_dropout``: whole words of each vocabulary, so that every occurrence of a dropped word
  in the batch embeds as zeros (Gal & Ghahramani 2016, §4.2, who draw per sequence; one draw
  per batch here, as AWD-LSTM's embedding dropout).
- ``weight_drop``: DropConnect on the recurrent matrices ``W_hh`` (Merity et al. 2018, §2),
  one mask per batch: the encoder's layer draws it at its one call, and the decoder's is held
  over all the steps of a batch (:meth:`seqlab.nn.GRU.one_weight_drop_mask`).

The decoder calls its RNN once per target token, so a mask "per sentence" or "per batch" must
outlive a step: :class:`StepMasks` are drawn when the decoder starts and ride in its state,
read the same at every step whether training is teacher forced or feeds the model's own tokens.
The DropConnect mask is held by :meth:`Seq2Seq.forward <seqlab.models.seq2seq.Seq2Seq.forward>`;
a caller stepping a model in training mode by :meth:`~seqlab.models.seq2seq.Seq2Seq.step` wraps
its steps in the decoder RNN's ``one_weight_drop_mask()`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.models.seq2seq_configs import Seq2SeqConfig
from seqlab.nn.dropout import embedding_dropout, keep_mask, locked_dropout, word_dropped


def dropped_source(embedding: nn.Embedding, dropout: nn.Dropout, source: torch.Tensor,
                   config: Seq2SeqConfig) -> torch.Tensor:  # fmt: skip
    """The source embedded with words dropped, then standard or locked dropout: ``(B, S)`` → ``(B, S, E)``."""
    embedded = embedding_dropout(embedding, source, config.word_dropout, dropout.training)
    if config.dropout_kind == "locked":
        return locked_dropout(embedded, config.dropout, dropout.training, batch_first=True)
    return dropout(embedded)


@dataclass
class StepMasks:
    """The decoder's dropout for N rows, drawn before the first step and read at every step (training only).

    Each field is None where its kind of dropout is off or draws fresh masks at every step.
    """

    embedding: torch.Tensor | None  # (V, E) the target embedding matrix with whole words dropped
    inputs: torch.Tensor | None  # (N, E) locked: the mask of every step's embedded previous token
    features: torch.Tensor | None  # (N, F) locked: the mask of every step's output features

    def select(self, order: torch.Tensor) -> StepMasks:
        """The masks of rows ``order`` (M,)."""
        return StepMasks(
            embedding=self.embedding,
            inputs=None if self.inputs is None else self.inputs.index_select(0, order),
            features=None if self.features is None else self.features.index_select(0, order),
        )


def draw_step_masks(config: Seq2SeqConfig, embedding: nn.Embedding, rows: int, features: int,
                    training: bool) -> StepMasks | None:  # fmt: skip
    """The masks of one training pass over ``rows`` sentences; None when nothing needs holding."""
    locked = training and config.dropout_kind == "locked" and config.dropout > 0
    words = training and config.word_dropout > 0
    if not (locked or words):
        return None
    weight = embedding.weight
    return StepMasks(
        embedding=word_dropped(weight, config.word_dropout) if words else None,
        inputs=keep_mask((rows, weight.size(1)), config.dropout, weight) if locked else None,
        features=keep_mask((rows, features), config.dropout, weight) if locked else None,
    )


def embed_targets(embedding: nn.Embedding, tokens: torch.Tensor, masks: StepMasks | None) -> torch.Tensor:
    """Target tokens ``(N,)`` or ``(N, T)`` looked up, in the word-dropped matrix when there is one."""
    if masks is None or masks.embedding is None:
        return embedding(tokens)
    return F.embedding(tokens, masks.embedding, embedding.padding_idx)


def masked(values: torch.Tensor, mask: torch.Tensor | None, dropout: nn.Dropout) -> torch.Tensor:
    """``values`` ``(N, D)`` or ``(N, T, D)`` times the held mask ``(N, D)``; standard dropout without one."""
    if mask is None:
        return dropout(values)
    mask = mask.to(values.dtype)  # under autocast the values may be half precision
    return values * (mask if values.dim() == 2 else mask.unsqueeze(1))
