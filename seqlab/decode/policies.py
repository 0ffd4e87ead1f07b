"""The per-step choice of a search: greedy, beam, or sampling (as fairseq's ``search.py``).

A policy sees the log-probabilities of the next token for the K rows of each of B sentences,
with each row's running sum of log-probabilities, and proposes candidates: extensions of rows,
best first. The loop (:func:`~seqlab.decode.search`) keeps finished hypotheses, handles EOS,
lengths and stopping, and keeps the first K candidates that do not end with EOS as live rows.
"""

from __future__ import annotations

import math
from typing import Protocol

import torch
from torch import Tensor

from seqlab.decode.sampling import SamplingConfig, filter_logits
from seqlab.errors import SeqlabError


class SearchPolicy(Protocol):
    """The interface the loop calls: ``beam_size``, ``reorders_rows``, ``start`` and ``step``."""

    beam_size: int  # K: rows per sentence
    reorders_rows: bool  # False: candidate c of a sentence always extends its row c (no state reorder needed)

    def start(self, batch_size: int, *, dtype: torch.dtype, device: torch.device) -> Tensor:
        """The running scores of the B*K rows before the first step, shape ``(B, K)``."""
        ...

    def step(self, log_probs: Tensor, scores: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Candidates ``(scores, tokens, rows)``, each ``(B, C)`` with ``C >= K``, best first.

        Args:
            log_probs: ``(B, K, V)``, banned tokens already at ``-inf``.
            scores: ``(B, K)``, the running sums of log-probabilities (``-inf``: a dead row).
        """
        ...


class GreedySearch:
    """Take the most likely next token of each row: one row per sentence, stop at its EOS.

    The same tokens and scores as :class:`BeamSearch` of width 1 with ``stopping="count"``
    (ties between equally likely tokens are broken by ``torch.topk``).

    Example:
        >>> GreedySearch().beam_size
        1
    """

    beam_size = 1
    reorders_rows = False

    def start(self, batch_size: int, *, dtype: torch.dtype, device: torch.device) -> Tensor:
        return torch.zeros(batch_size, 1, dtype=dtype, device=device)  # (B, 1)

    def step(self, log_probs: Tensor, scores: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        best, tokens = log_probs.squeeze(1).topk(1, dim=-1)  # (B, 1)
        return scores + best, tokens, torch.zeros_like(tokens)


class BeamSearch:
    """Keep the K best extensions of the K live rows of each sentence, batched over sentences.

    Each step ranks all ``K * V`` extensions of a sentence by their summed log-probability (batched:
    a ``topk`` of each row's ``V`` tokens, then of the sentence's ``K * 2K``) and proposes the best
    ``2K``: at most K of them end with EOS (one per row), so K live ones always remain (fairseq's
    ``BeamSearch``). At the first step
    only row 0 is alive (the others start at ``-inf``), so the K rows are K different tokens.

    **Pruning** (Freitag & Al-Onaizan 2017, section 3; off by default): a candidate is dropped when
    its probability is at most ``relative_threshold`` times the best candidate's of its sentence
    (their "relative threshold pruning", rp), or its log-probability at least ``absolute_threshold``
    below the best's (their "absolute threshold pruning", ap); the best candidate always stays. The
    beam then holds up to K hypotheses, fewer where the model is sure; the loop steps only the rows
    that remain, so pruning saves the model's work, and the search is no longer exact for the beam.
    Their relative local threshold and maximum candidates per node are not implemented.

    Args:
        beam_size: K, the most live hypotheses per sentence.
        relative_threshold: rp in (0, 1]: drop candidates with ``P <= rp * P_best``; None: off.
        absolute_threshold: ap > 0 in nats: drop candidates with ``log P <= log P_best - ap``; None: off.

    Example:
        >>> BeamSearch(5).beam_size
        5
        >>> BeamSearch(5, relative_threshold=0.6, absolute_threshold=2.5).absolute_threshold
        2.5
    """

    reorders_rows = True

    def __init__(
        self, beam_size: int, *, relative_threshold: float | None = None, absolute_threshold: float | None = None
    ) -> None:
        if beam_size < 1:
            raise SeqlabError(f"beam_size must be at least 1, got {beam_size}")
        if relative_threshold is not None and not 0.0 < relative_threshold <= 1.0:
            raise SeqlabError(f"relative_threshold must be in (0, 1], got {relative_threshold}")
        if absolute_threshold is not None and not absolute_threshold > 0.0:
            raise SeqlabError(f"absolute_threshold must be positive (nats), got {absolute_threshold}")
        self.beam_size = beam_size
        self.relative_threshold, self.absolute_threshold = relative_threshold, absolute_threshold

    def start(self, batch_size: int, *, dtype: torch.dtype, device: torch.device) -> Tensor:
        scores = torch.full((batch_size, self.beam_size), float("-inf"), dtype=dtype, device=device)  # (B, K)
        scores[:, 0] = 0.0
        return scores

    def step(self, log_probs: Tensor, scores: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        batch_size, beam_size, vocab_size = log_probs.shape
        width = min(2 * beam_size, vocab_size)
        # A sentence's best 2K extensions are among each row's best 2K tokens: ranking those alone
        # spares adding the scores to all (B, K, V) log-probabilities.
        row_best, row_tokens = log_probs.topk(width, dim=-1)  # (B, K, 2K)
        extended = (scores.unsqueeze(-1) + row_best).view(batch_size, beam_size * width)  # (B, K*2K)
        best, index = extended.topk(min(2 * beam_size, beam_size * width), dim=-1)  # (B, 2K)
        tokens = row_tokens.view(batch_size, beam_size * width).gather(1, index)  # (B, 2K)
        return self._pruned(best), tokens, torch.div(index, width, rounding_mode="floor")

    def _pruned(self, best: Tensor) -> Tensor:
        """The candidates' scores ``(B, 2K)``, best first, at ``-inf`` where a threshold drops them."""
        if self.relative_threshold is None and self.absolute_threshold is None:
            return best
        margin = min(-math.log(self.relative_threshold) if self.relative_threshold is not None else math.inf,
                     self.absolute_threshold if self.absolute_threshold is not None else math.inf)  # fmt: skip
        dropped = best <= best[:, :1] - margin
        dropped[:, 0] = False  # the best candidate itself always stays
        return best.masked_fill(dropped, float("-inf"))


class SamplingSearch:
    """Draw each next token from the filtered distribution: ``num_samples`` independent samples per sentence.

    Temperature, top-k and top-p are :func:`~seqlab.decode.filter_logits`; the hypotheses' scores
    are the model's own log-probabilities of the drawn tokens (before filtering). The generator
    is private and re-seeded at the start of every search, so one seed gives the same samples.

    Args:
        config: temperature, top-k and top-p.
        num_samples: K, samples per sentence (rows that finish stay dead until all K have).
        seed: seeds the private generator; None draws a fresh seed for every search.

    Example:
        >>> SamplingSearch(SamplingConfig(temperature=1.0, top_p=0.9), seed=0).beam_size
        1
    """

    reorders_rows = False

    def __init__(self, config: SamplingConfig | None = None, *, num_samples: int = 1, seed: int | None = None) -> None:
        if num_samples < 1:
            raise SeqlabError(f"num_samples must be at least 1, got {num_samples}")
        self.config = config if config is not None else SamplingConfig()
        self.beam_size = num_samples
        self.seed = seed
        self._generator: torch.Generator | None = None

    def start(self, batch_size: int, *, dtype: torch.dtype, device: torch.device) -> Tensor:
        self._generator = torch.Generator(device=device)
        if self.seed is None:
            self._generator.seed()
        else:
            self._generator.manual_seed(self.seed)
        return torch.zeros(batch_size, self.beam_size, dtype=dtype, device=device)  # (B, K)

    def step(self, log_probs: Tensor, scores: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        if self._generator is None:
            raise SeqlabError("SamplingSearch.step was called before start")
        batch_size, num_samples, vocab_size = log_probs.shape
        flat = log_probs.reshape(batch_size * num_samples, vocab_size)  # (B*K, V)
        logits = filter_logits(flat, self.config)  # (B*K, V)
        # A row with every token banned cannot be sampled; it is dead whatever it draws (score -inf).
        logits = logits.masked_fill(torch.isneginf(logits).all(-1, keepdim=True), 0.0)
        probs = torch.softmax(logits, dim=-1)
        tokens = torch.multinomial(probs, num_samples=1, generator=self._generator)  # (B*K, 1)
        chosen = flat.gather(1, tokens).view(batch_size, num_samples)  # (B, K)
        rows = torch.arange(num_samples, device=log_probs.device).expand(batch_size, num_samples)
        return scores + chosen, tokens.view(batch_size, num_samples), rows
