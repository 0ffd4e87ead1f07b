"""log Z of a linear-chain CRF as one autograd Function: the forward algorithm, its gradient the backward one.

The recursions of :mod:`seqlab.nn.crf` (whose docstring gives the equations and why they run this
way): in probability space with every factor shifted so that its largest entry is 1, in float64,
over batches whose sentences are prefixes of their rows (padding at the end).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable


def _exp_shifted(scores: Tensor, dim: int | tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """``exp(scores - m)`` and m, the maximum over ``dim`` (0 where it is not finite), so the largest factor is 1.

    A -inf score (a disallowed move) becomes a factor of exactly 0.
    """
    shift = scores.amax(dim=dim, keepdim=True)
    shift = torch.where(torch.isfinite(shift), shift, torch.zeros_like(shift))
    return torch.exp(scores - shift), shift


def _normalised_forward(first: Tensor, transition_factors: Tensor, emission_factors: Tensor) -> tuple[Tensor, Tensor]:
    """The forward algorithm in probability space, each α̂_t rescaled to sum to 1.

    α̂_0 ∝ first ⊙ emit_0,  α̂_t ∝ (α̂_{t-1} @ transition_factors) ⊙ emit_t; the log of each rescaling
    is returned so that log Z can be put back together.

    Shape:
        first (K,), transition_factors (K, K), emission_factors (B, T, K) -> alpha (B, T, K), log_norms (B, T).
    """
    alpha = first * emission_factors[:, 0]  # (B, K)
    alphas, norms = [], []
    for t in range(emission_factors.size(1)):
        if t:
            alpha = (alpha @ transition_factors) * emission_factors[:, t]
        norm = alpha.sum(1, keepdim=True)  # (B, 1)
        alpha = alpha / norm
        alphas.append(alpha)
        norms.append(norm)
    return torch.stack(alphas, 1), torch.cat(norms, 1).log()


def _reversal(lengths: Tensor, steps: int) -> Tensor:
    """The index that reverses each sentence within its length and leaves padding in place.

    Shape:
        lengths (B,) -> (B, T): word s of sentence b goes to L_b - 1 - s (an involution).
    """
    positions = torch.arange(steps, device=lengths.device)  # (T,)
    mirrored = lengths.unsqueeze(1) - 1 - positions  # (B, T)
    return torch.where(mirrored >= 0, mirrored, positions)


def _gather_steps(values: Tensor, index: Tensor) -> Tensor:
    """``values[b, index[b, t]]`` for every b, t. Shape: values (B, T, K), index (B, T) -> (B, T, K)."""
    return values.gather(1, index.unsqueeze(2).expand_as(values))


class LogPartition(torch.autograd.Function):
    """log Z of every sentence by the forward algorithm; its gradient, the marginals, by the backward one.

    Inputs: emissions (B, T, K), transitions (K, K), start (K,), end (K,), all float64 (-inf where
    disallowed), and mask (B, T). Output: log Z (B,).
    """

    @staticmethod
    def forward(ctx, emissions: Tensor, transitions: Tensor, start: Tensor, end: Tensor, mask: Tensor) -> Tensor:
        emission_factors, emission_shifts = _exp_shifted(emissions, 2)  # (B, T, K), (B, T, 1)
        transition_factors, transition_shift = _exp_shifted(transitions, (0, 1))  # (K, K), (1, 1)
        start_factors, start_shift = _exp_shifted(start, 0)  # (K,), (1,)
        end_factors, end_shift = _exp_shifted(end, 0)
        alpha, log_norms = _normalised_forward(start_factors, transition_factors, emission_factors)  # (B, T, K)
        lengths = mask.sum(1)  # (B,)
        last = lengths - 1
        final = alpha[torch.arange(alpha.size(0), device=alpha.device), last] @ end_factors  # (B,)
        per_word = torch.where(mask, log_norms + emission_shifts.squeeze(2), 0.0).sum(1)  # (B,)
        log_z = per_word + last * transition_shift.squeeze() + start_shift + end_shift + final.log()
        ctx.save_for_backward(alpha, emission_factors, transition_factors, start_factors, end_factors, mask, lengths)
        return log_z

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_log_z: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, None]:
        alpha, emission_factors, transition_factors, start_factors, end_factors, mask, lengths = ctx.saved_tensors
        batch, steps, num_tags = alpha.shape
        reverse = _reversal(lengths, steps)  # (B, T)
        reversed_beta, _ = _normalised_forward(
            end_factors, transition_factors.T, _gather_steps(emission_factors, reverse)
        )
        beta = _gather_steps(reversed_beta, reverse)  # ∝ exp(P_t) ⊙ β_t: everything from word t on, given y_t
        # ∝ the paths into word t, before its emission: (B, T, K)
        into = torch.cat([start_factors.expand(batch, 1, num_tags), alpha[:, :-1] @ transition_factors], 1)
        unary = into * beta  # ∝ p(y_t = j)
        weight = grad_log_z.unsqueeze(1) / unary.sum(2)  # (B, T): dL/dlog Z over the normaliser of p(y_t)
        real = mask.unsqueeze(2)  # (B, T, 1)
        d_emissions = torch.where(real, unary * weight.unsqueeze(2), 0.0)  # dL/dlog Z · p(y_t = j)
        # Σ_{b,t} dL/dlog Z · p(y_{t-1} = i, y_t = j) = A's factors ⊙ (α̂_{t-1} summed against the rest)
        before = torch.where(real[:, 1:], alpha[:, :-1], 0.0).reshape(-1, num_tags)  # (B·(T-1), K)
        after = torch.where(real[:, 1:], beta[:, 1:] * weight[:, 1:].unsqueeze(2), 0.0).reshape(-1, num_tags)
        d_transitions = transition_factors * (before.T @ after)  # (K, K)
        d_start = d_emissions[:, 0].sum(0)
        d_end = d_emissions[torch.arange(batch, device=alpha.device), lengths - 1].sum(0)
        return d_emissions, d_transitions, d_start, d_end, None
