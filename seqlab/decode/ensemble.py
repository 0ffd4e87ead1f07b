"""Several models decoded as one: each step's next-token distribution is the mean of the members'.

For M members that read the same source and share the target vocabulary, the ensemble gives

    P(y_t | y_<t, x) = (1/M) Σ_m P_m(y_t | y_<t, x),

computed in log space as ``logsumexp_m(log P_m) - log M`` (fairseq's ``EnsembleModel`` averages
the same way; Marian's log-linear sum of log-probabilities is another choice, not a distribution).
The mean is a distribution, so every search of :mod:`seqlab.decode` runs on it unchanged, and its
scores stay ``<= 0`` (the ``"bound"`` stopping rule stays exact). Each member keeps its own state;
the ensemble's state is their tuple, reordered member by member.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from seqlab.errors import SeqlabError


@dataclass
class EnsembleOutput:
    """What :meth:`Ensemble.forward` returns: the teacher-forced scores and the mean attention."""

    logits: Tensor  # (B, T, V) the ensemble's log-probabilities (softmax of them gives the mean distribution)
    attention: Tensor | None  # (B, T, S) the mean of the members' attention weights; None unless every member has some


class Ensemble(nn.Module):
    """Members with ``start``, ``step``, ``reorder`` and ``forward`` (e.g. translation models), as one model.

    Args:
        members: at least one model; all must use the same source and target vocabularies (the
            caller checks: the ensemble sees only ids).

    Shape:
        - source: ``(B, S)`` token ids; lengths ``(B,)``; tokens ``(N,)``; output of :meth:`step` ``(N, V)``

    Example:
        >>> class Fixed(nn.Module):
        ...     def __init__(self, probs):
        ...         super().__init__()
        ...         self.log_probs = nn.Parameter(torch.tensor(probs).log(), requires_grad=False)
        ...     def start(self, source, lengths):
        ...         return torch.zeros(len(source))
        ...     def step(self, tokens, state):
        ...         return self.log_probs.repeat(len(tokens), 1), state
        ...     def reorder(self, state, order):
        ...         return state[order]
        >>> both = Ensemble([Fixed([0.5, 0.5]), Fixed([0.9, 0.1])])
        >>> log_probs, _ = both.step(torch.tensor([0]), both.start(torch.zeros(1, 3), torch.tensor([3])))
        >>> log_probs.exp()
        tensor([[0.7000, 0.3000]])
    """

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise SeqlabError("an ensemble needs at least one model")
        self.members = nn.ModuleList(members)

    def start(self, source: Tensor, lengths: Tensor) -> tuple[Any, ...]:
        """Each member's state before the first target token, for B source sentences."""
        return tuple(member.start(source, lengths) for member in self.members)

    def step(self, tokens: Tensor, state: tuple[Any, ...]) -> tuple[Tensor, tuple[Any, ...]]:
        """tokens (N,) → log of the members' mean next-token probabilities (N, V), and the next states."""
        pairs = zip(self.members, state, strict=True)
        outputs = [member.step(tokens, member_state) for member, member_state in pairs]
        log_probs = torch.stack([log_probs for log_probs, _ in outputs])  # (M, N, V)
        return _mean_in_log_space(log_probs), tuple(member_state for _, member_state in outputs)

    def reorder(self, state: tuple[Any, ...], order: Tensor) -> tuple[Any, ...]:
        """Each member's state of the rows ``order`` (N',), the same rows for every member."""
        return tuple(
            member.reorder(member_state, order) for member, member_state in zip(self.members, state, strict=True)
        )

    def forward(self, source: Tensor, lengths: Tensor, target_input: Tensor) -> EnsembleOutput:
        """Teacher forced: the ensemble's log-probabilities of every target position, and the mean attention."""
        outputs = [member(source, lengths, target_input) for member in self.members]
        log_probs = torch.stack([torch.log_softmax(output.logits.float(), dim=-1) for output in outputs])
        maps = [output.attention for output in outputs]
        attention = None if any(weights is None for weights in maps) else torch.stack(maps).mean(0)
        return EnsembleOutput(_mean_in_log_space(log_probs), attention)


def _mean_in_log_space(log_probs: Tensor) -> Tensor:
    """``log(mean_m exp(log_probs[m]))`` over the first dimension, without leaving log space.

    Clamped at 0: rounding could put a probability of 1 a hair above it, and a search's bounds
    rely on every step's log-probability being ``<= 0``.
    """
    if log_probs.size(0) == 1:
        return log_probs[0]
    return (torch.logsumexp(log_probs, dim=0) - math.log(log_probs.size(0))).clamp_(max=0.0)
