"""Gradient clipping: by global norm (Pascanu et al. 2013) and by value.

Exploding gradients are the classic failure of BPTT; clipping the *global* norm rescales
all gradients together, so the update keeps its direction.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from seqlab.errors import SeqlabError


def _gradients(parameters: Iterable[Tensor] | Tensor) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: Iterable[Tensor] | Tensor,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Rescales gradients in place so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients as if they were one vector. Nothing changes
    when the norm is already below ``max_norm``.

    Args:
        parameters: tensors whose ``.grad`` to clip (those without a gradient are skipped).
        max_norm: the largest norm allowed (> 0).
        norm_type: p of the p-norm; ``float('inf')`` for the largest absolute value.
        error_if_nonfinite: raise when the norm is nan or inf instead of scaling by it.

    Returns:
        The total norm before clipping, a 0-d tensor (useful to log).

    Raises:
        SeqlabError: ``max_norm`` is not positive, or the norm is non-finite and
            ``error_if_nonfinite`` is set.
    """
    if not max_norm > 0:
        raise SeqlabError(f"max_norm must be positive, got {max_norm}")
    grads = _gradients(parameters)
    if not grads:
        return torch.tensor(0.0)
    norms = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])
    total = torch.linalg.vector_norm(norms, norm_type)
    if error_if_nonfinite and not torch.isfinite(total):
        raise SeqlabError(f"the total gradient norm is {total.item()}: the loss or the model diverged")
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    torch._foreach_mul_(grads, scale)
    return total


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamps every gradient entry into ``[-clip_value, clip_value]`` in place."""
    if not clip_value > 0:
        raise SeqlabError(f"clip_value must be positive, got {clip_value}")
    for grad in _gradients(parameters):
        grad.clamp_(-clip_value, clip_value)
