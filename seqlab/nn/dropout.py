"""Dropout for recurrent networks: masks that respect the sequence structure.

* :class:`LockedDropout`: variational dropout (Gal & Ghahramani 2016). One mask per
  sequence, shared by every time step, on a layer's inputs or outputs.
* :func:`embedding_dropout`: drops whole words (rows of the embedding matrix), so that
  every occurrence of a dropped word in the batch becomes zeros (Gal & Ghahramani 2016,
  section 4.2; Merity et al. 2017).
* :func:`drop_connect`: DropConnect on a weight matrix (Wan et al. 2013), which the
  recurrent layers apply to ``W_hh`` when built with ``weight_drop=p`` (the WeightDrop of
  AWD-LSTM): the masked matrix is passed into the fused kernel, nothing is patched.

All scale the kept units by ``1 / (1 - p)`` so that expectations are unchanged, and all are
the identity in evaluation mode.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding, Module

from seqlab.errors import SeqlabError


def _check_probability(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise SeqlabError(f"dropout probability must be in [0, 1), got {p!r}")
    return float(p)


def keep_mask(shape: tuple[int, ...], p: float, like: Tensor) -> Tensor:
    """Bernoulli(1 - p) mask scaled by 1 / (1 - p), of ``shape``, with ``like``'s dtype and device."""
    return like.new_empty(shape).bernoulli_(1 - p).div_(1 - p)


class LockedDropout(Module):
    """Variational dropout: one mask per sequence and feature, constant over time.

    Args:
        p: probability of zeroing a unit, in [0, 1).
        batch_first: whether inputs are ``(B, T, H)`` instead of ``(T, B, H)``.

    Shape:
        input ``(T, B, H)`` (``(B, T, H)`` if batch_first); output the same.

    Example:
        >>> drop = LockedDropout(0.5)
        >>> y = drop(torch.ones(4, 2, 3))
        >>> bool((y == y[0]).all())  # the same mask at every step
        True
    """

    def __init__(self, p: float = 0.5, *, batch_first: bool = False) -> None:
        super().__init__()
        self.p = _check_probability(p)
        self.batch_first = batch_first

    def forward(self, x: Tensor) -> Tensor:
        return locked_dropout(x, self.p, self.training, batch_first=self.batch_first)

    def extra_repr(self) -> str:
        return f"p={self.p}" + (", batch_first=True" if self.batch_first else "")


def locked_dropout(x: Tensor, p: float, training: bool, *, batch_first: bool = False) -> Tensor:
    """The function behind :class:`LockedDropout`: one mask per sequence, shared over time.

    Shape:
        x ``(T, B, H)`` (``(B, T, H)`` if batch_first); output the same.
    """
    p = _check_probability(p)
    if not training or p == 0:
        return x
    if x.dim() != 3:
        raise SeqlabError(f"LockedDropout: expected a 3-D (time, batch, features) input, got {x.dim()}-D")
    shape = list(x.shape)
    shape[1 if batch_first else 0] = 1  # one mask, broadcast over every step
    return x * keep_mask(tuple(shape), p, x)


def embedding_dropout(embedding: Embedding, tokens: Tensor, p: float, training: bool) -> Tensor:
    """Looks ``tokens`` up in ``embedding`` with whole words dropped.

    One mask entry per vocabulary word: a dropped word is zeros wherever it occurs in the
    batch, and kept words are scaled by 1 / (1 - p).

    Args:
        embedding: the embedding layer whose rows are words.
        tokens: token ids, any shape.
        p: probability of dropping a word, in [0, 1).
        training: apply the mask (True) or look up plainly (False).

    Shape:
        tokens ``(*)`` -> output ``(*, E)``.
    """
    p = _check_probability(p)
    if not training or p == 0:
        return embedding(tokens)
    masked = word_dropped(embedding.weight, p)  # (V, E)
    return F.embedding(tokens, masked, embedding.padding_idx, embedding.max_norm, embedding.norm_type,
                       embedding.scale_grad_by_freq, embedding.sparse)  # fmt: skip


def word_dropped(weight: Tensor, p: float) -> Tensor:
    """The embedding matrix ``weight`` with each row (word) zeroed with probability ``p``, the rest
    scaled by 1 / (1 - p): the matrix :func:`embedding_dropout` looks words up in.

    A decoder that embeds one token per step draws this once per batch and looks up every step in it
    (per batch as AWD-LSTM's embedding dropout; Gal & Ghahramani's §4.2 draws per sequence).

    Shape:
        weight ``(V, E)`` -> ``(V, E)``.
    """
    return weight * keep_mask((weight.size(0), 1), _check_probability(p), weight)


def drop_connect(weight: Tensor, p: float, training: bool) -> Tensor:
    """DropConnect: ``weight`` with each entry zeroed with probability ``p`` (one mask per call).

    Returns a new tensor in the autograd graph of ``weight``, so gradients reach the raw
    weight through the mask.
    """
    if not training or p == 0:
        return weight
    return F.dropout(weight, p, training=True)
