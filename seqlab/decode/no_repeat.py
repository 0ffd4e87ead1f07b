"""No-repeat n-grams: ban a token that would repeat an n-gram already in the hypothesis (fairseq, HF)."""

from __future__ import annotations

import torch
from torch import Tensor


def repeated_ngram_mask(history: Tensor, ngram_size: int, vocab_size: int) -> Tensor:
    """Which next tokens would complete an n-gram that already occurs in each row's history.

    With history ``w_1 .. w_t``, token ``v`` is banned when ``(w_{t-n+2}, .., w_t, v)`` equals
    some ``(w_j, .., w_{j+n-1})`` with ``j + n - 1 <= t``; so no n-gram ever occurs twice in an
    output. ``ngram_size=1`` bans every token already emitted. All rows at once: no loop over rows.

    Args:
        history: the tokens emitted so far by each row (without BOS).
        ngram_size: n, at least 1.
        vocab_size: V.

    Shape:
        - history: ``(N, t)`` long
        - output: ``(N, V)`` bool, True where banned

    Returns:
        The mask of banned next tokens.
    """
    rows, length = history.shape
    banned = torch.zeros(rows, vocab_size, dtype=torch.bool, device=history.device)  # (N, V)
    if length < ngram_size:
        return banned
    windows = history.unfold(1, ngram_size, 1)  # (N, t-n+1, n): every n-gram so far
    suffix = history[:, length - ngram_size + 1 :]  # (N, n-1): the prefix of the n-gram to come
    matches = (windows[..., :-1] == suffix.unsqueeze(1)).all(-1)  # (N, t-n+1)
    # Repeated next tokens in one row would race in a plain scatter; a sum of matches does not.
    counts = torch.zeros(rows, vocab_size, dtype=torch.int32, device=history.device)
    counts.scatter_add_(1, windows[..., -1], matches.to(torch.int32))
    return counts > 0
