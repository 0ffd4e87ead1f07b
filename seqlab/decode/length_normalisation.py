"""Length normalisation of a hypothesis' score (Wu et al. 2016, "Google's NMT system", section 7)."""

from __future__ import annotations

import torch
from torch import Tensor


def length_penalty(length: Tensor, alpha: float) -> Tensor:
    """``lp(Y) = (5 + |Y|)^alpha / (5 + 1)^alpha`` (Wu et al. 2016, section 7).

    ``|Y|`` is the number of scored tokens of the hypothesis: its words, plus the end-of-sentence
    token when it has one (every factor of ``P(Y|X)`` counts once). ``alpha=0`` gives ``lp = 1``,
    the raw log-probability; larger ``alpha`` favours longer hypotheses.

    Args:
        length: ``|Y|`` of each hypothesis (any integer or float tensor).
        alpha: the strength of the normalisation, ``>= 0`` (GNMT tuned it in ``[0.6, 0.7]``).

    Shape:
        - length: any shape ``(*)``; output: the same shape, float.
    """
    length = length.to(torch.get_default_dtype()) if not length.is_floating_point() else length
    return ((5.0 + length) / 6.0) ** alpha


def normalised_score(log_prob: Tensor, length: Tensor, alpha: float) -> Tensor:
    """``s(Y, X) = log P(Y|X) / lp(Y)``, the score that ranks finished hypotheses (Wu et al. 2016, section 7).

    Args:
        log_prob: ``log P(Y|X)``, summed over the scored tokens.
        length: ``|Y|``, the number of scored tokens (end-of-sentence included when present).
        alpha: as in :func:`length_penalty`.

    Shape:
        - log_prob, length: the same shape ``(*)``; output: that shape, ``log_prob``'s dtype.
    """
    return log_prob / length_penalty(length.to(log_prob.dtype), alpha)
