"""What every seqlab language model returns, so training and evaluation treat them alike."""

from __future__ import annotations

from typing import Any, NamedTuple

import torch


class LanguageModelOutput(NamedTuple):
    """The result of ``model(tokens, state, targets)``; unpacks as ``logits, state, loss, ...``.

    The training loop minimises ``loss`` and reports ``cross_entropy``; the neural cache reads
    ``features``. In evaluation mode the two losses are equal.
    """

    logits: torch.Tensor  # (T, B, V) unnormalised next-token scores
    state: Any  # what to pass to the next call to continue the same streams
    loss: torch.Tensor | None  # the training objective: cross-entropy plus any penalties
    cross_entropy: torch.Tensor | None  # mean next-token cross-entropy, nats per token
    features: torch.Tensor  # (T, B, H) the representation the output layer reads, before dropout
