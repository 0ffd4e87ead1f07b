"""The per-step choice when sampling: temperature, top-k and top-p (nucleus) filtering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from seqlab.errors import SeqlabError


@dataclass
class SamplingConfig:
    """How to pick each next token from the model's scores."""

    temperature: float = 0.8  # below 1 sharpens the distribution: fewer typos, less variety
    top_k: int | None = None  # keep only the k most likely tokens; 1 is greedy decoding
    top_p: float | None = None  # keep the fewest tokens whose probabilities sum to >= p

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise SeqlabError(f"temperature must be positive, got {self.temperature}")
        if self.top_k is not None and self.top_k < 1:
            raise SeqlabError(f"top_k must be at least 1, got {self.top_k}")
        if self.top_p is not None and not 0.0 < self.top_p <= 1.0:
            raise SeqlabError(f"top_p must be in (0, 1], got {self.top_p}")


def filter_logits(logits: torch.Tensor, config: SamplingConfig, *, banned_ids: Sequence[int] = ()) -> torch.Tensor:
    """Scores with banned, top-k and top-p exclusions set to ``-inf``, divided by temperature.

    Banned tokens are removed first, so they never count among the top k or the top p.

    Args:
        logits: unnormalised scores over the vocabulary.
        config: temperature, top-k and top-p.
        banned_ids: tokens never to choose, such as ``<unk>``.

    Shape:
        - logits: ``(B, V)``
        - output: ``(B, V)``

    Returns:
        A new tensor; ``softmax`` of it is the distribution to sample from.
    """
    logits = logits.float() / config.temperature  # (B, V)
    if banned_ids:
        logits[:, list(banned_ids)] = float("-inf")
    if config.top_k is not None and config.top_k < logits.size(-1):
        kth_best = torch.topk(logits, config.top_k, dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth_best, float("-inf"))
    if config.top_p is not None and config.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)  # (B, V)
        probs = torch.softmax(sorted_logits, dim=-1)
        # A token is dropped when the more likely tokens before it already reach top_p;
        # the most likely token is therefore always kept.
        mass_before = torch.cumsum(probs, dim=-1) - probs
        drop_sorted = mass_before >= config.top_p
        drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def sample_next(
    logits: torch.Tensor,
    config: SamplingConfig,
    *,
    banned_ids: Sequence[int] = (),
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw the next token of each sequence from ``softmax(filter_logits(logits))``.

    Args:
        logits: unnormalised scores for the next token.
        config: temperature, top-k and top-p.
        banned_ids: tokens never to choose.
        generator: the source of randomness, for reproducible samples.

    Shape:
        - logits: ``(B, V)``
        - output: ``(B,)``

    Returns:
        The chosen token ids.
    """
    probs = torch.softmax(filter_logits(logits, config, banned_ids=banned_ids), dim=-1)  # (B, V)
    return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)  # (B,)
