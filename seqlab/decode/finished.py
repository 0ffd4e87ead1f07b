"""The n best finished hypotheses of every sentence, kept as tensors so that adding is one batched ``topk``."""

from __future__ import annotations

import torch
from torch import Tensor

from seqlab.decode.hypothesis import Hypothesis


class FinishedHypotheses:
    """For each of B sentences, the N best hypotheses added so far, best first, and how many were added.

    Args:
        batch_size: B.
        nbest: N, how many to keep per sentence.
        max_length: the most words a hypothesis can have (the width of the token buffer).
        dtype: the dtype of the scores.
        device: where the buffers live.
    """

    def __init__(self, batch_size: int, nbest: int, max_length: int, *, dtype: torch.dtype, device: torch.device):
        self.scores = torch.full((batch_size, nbest), float("-inf"), dtype=dtype, device=device)  # (B, N)
        self.log_probs = torch.full((batch_size, nbest), float("-inf"), dtype=dtype, device=device)  # (B, N)
        self.lengths = torch.zeros(batch_size, nbest, dtype=torch.long, device=device)  # (B, N) words
        self.finished = torch.zeros(batch_size, nbest, dtype=torch.bool, device=device)  # (B, N)
        self.tokens = torch.zeros(batch_size, nbest, max_length, dtype=torch.long, device=device)  # (B, N, L)
        self.count = torch.zeros(batch_size, dtype=torch.long, device=device)  # (B,) all ever added

    def add(self, sentences: Tensor, tokens: Tensor, log_probs: Tensor, scores: Tensor, *, finished: bool) -> None:
        """Offer M candidates for each of some sentences; those with score ``-inf`` are not added.

        Args:
            sentences: which sentences (indices into B), each once.
            tokens: each candidate's words (all of one length t).
            log_probs: each candidate's ``log P(Y|X)``.
            scores: each candidate's normalised score; ``-inf`` for no candidate.
            finished: whether the candidates ended with EOS.

        Shape:
            - sentences: ``(S,)``; tokens: ``(S, M, t)``; log_probs, scores: ``(S, M)``
        """
        nbest, max_length = self.tokens.shape[1:]
        new_tokens = torch.nn.functional.pad(tokens, (0, max_length - tokens.size(-1)))  # (S, M, L)
        all_scores = torch.cat([self.scores[sentences], scores], dim=1)  # (S, N+M)
        best, index = all_scores.topk(nbest, dim=-1)  # (S, N)
        self.scores[sentences] = best
        self.log_probs[sentences] = torch.cat([self.log_probs[sentences], log_probs], 1).gather(1, index)
        new_lengths = torch.full_like(scores, tokens.size(-1), dtype=torch.long)
        self.lengths[sentences] = torch.cat([self.lengths[sentences], new_lengths], 1).gather(1, index)
        new_finished = torch.full_like(scores, finished, dtype=torch.bool)
        self.finished[sentences] = torch.cat([self.finished[sentences], new_finished], 1).gather(1, index)
        all_tokens = torch.cat([self.tokens[sentences], new_tokens], dim=1)  # (S, N+M, L)
        self.tokens[sentences] = all_tokens.gather(1, index.unsqueeze(-1).expand(-1, -1, max_length))
        self.count[sentences] += torch.isfinite(scores).sum(-1)

    def worst(self, sentences: Tensor) -> Tensor:
        """The N-th best score of each sentence (``-inf`` while fewer than N are finished), shape ``(S,)``."""
        return self.scores[sentences, -1]

    def hypotheses(self) -> list[list[Hypothesis]]:
        """Per sentence, its hypotheses best first (fewer than N when fewer were found)."""
        scores, log_probs = self.scores.tolist(), self.log_probs.tolist()
        lengths, finished, tokens = self.lengths.tolist(), self.finished.tolist(), self.tokens.tolist()
        return [
            [
                Hypothesis(
                    tokens=tokens[b][j][: lengths[b][j]],
                    log_prob=log_probs[b][j],
                    score=scores[b][j],
                    finished=finished[b][j],
                )
                for j in range(len(scores[b]))
                if scores[b][j] != float("-inf")
            ]
            for b in range(len(scores))
        ]
