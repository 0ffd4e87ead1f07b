"""What every sequence-to-sequence model returns, and its loss, so that training treats them alike."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F


class Seq2SeqOutput(NamedTuple):
    """The result of ``model(source, lengths, target_input, targets)``."""

    logits: torch.Tensor  # (B, T, V) unnormalised scores of each target position
    attention: torch.Tensor | None  # (B, T, S) attention weights, None without attention
    loss: torch.Tensor | None  # the objective: label-smoothed cross-entropy, mean over real target tokens
    nll: torch.Tensor | None  # the plain cross-entropy, mean nats per real target token
    tokens: int  # real (non-padding) target tokens both means are over


def with_loss(logits: torch.Tensor, attention: torch.Tensor | None, targets: torch.Tensor, *, padding_id: int,
              label_smoothing: float = 0.0) -> Seq2SeqOutput:  # fmt: skip
    """The output with its loss: cross-entropy over the real target tokens, ``<pad>`` never scored.

    Args:
        label_smoothing: ε of Szegedy et al. 2016 (§7), spread over the whole vocabulary as
            ``torch.nn.functional.cross_entropy`` does; the ``nll`` is never smoothed.

    Shape:
        logits ``(B, T, V)``, targets ``(B, T)``.
    """
    flat_logits, flat_targets = logits.reshape(-1, logits.size(-1)), targets.reshape(-1)
    tokens = int((flat_targets != padding_id).sum())
    nll = F.cross_entropy(flat_logits, flat_targets, ignore_index=padding_id, reduction="sum") / max(tokens, 1)
    loss = nll
    if label_smoothing > 0:
        loss = F.cross_entropy(flat_logits, flat_targets, ignore_index=padding_id, reduction="sum",
                               label_smoothing=label_smoothing) / max(tokens, 1)  # fmt: skip
    return Seq2SeqOutput(logits, attention, loss, nll, tokens)
