"""Plain stochastic gradient descent with optional global-norm gradient clipping."""

from __future__ import annotations

import numpy as np

from seqlab.errors import SeqlabError

# Added to the norm before dividing, as torch.nn.utils.clip_grad_norm_ does.
_CLIP_EPSILON = 1e-6


def global_grad_norm(grads: dict[str, np.ndarray]) -> float:
    """The L2 norm of all the gradients taken together as one long vector."""
    return float(np.sqrt(sum(np.sum(grad**2) for grad in grads.values())))


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float) -> tuple[dict[str, np.ndarray], float]:
    """Scale all gradients by one factor so that their global norm is at most ``max_norm``.

    Clipping the global norm keeps the direction of the update and only shortens it, which
    tames the rare huge gradients of recurrent networks (Pascanu et al. 2013).

    Args:
        grads: gradients by name.
        max_norm: the largest global norm allowed, > 0.

    Returns:
        ``(clipped, norm)``: new arrays scaled by ``min(1, max_norm / (norm + 1e-6))``,
        and the global norm before clipping.
    """
    if max_norm <= 0:
        raise SeqlabError(f"max_norm must be > 0, got {max_norm}")
    norm = global_grad_norm(grads)
    scale = min(1.0, max_norm / (norm + _CLIP_EPSILON))
    return {name: grad * scale for name, grad in grads.items()}, norm


def sgd_step(
    params: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    learning_rate: float,
    *,
    max_grad_norm: float | None = None,
) -> float:
    """Update ``params`` in place: θ <- θ - learning_rate · ∂L/∂θ.

    Only the names in ``params`` are updated and counted in the norm, so ``grads`` may also
    hold gradients for inputs or initial states (as the backward functions return them).

    Args:
        params: the parameters, changed in place.
        grads: gradients with (at least) the keys of ``params``.
        learning_rate: the step size.
        max_grad_norm: clip the global norm of the gradients to this first; None: no clipping.

    Returns:
        The global gradient norm before clipping.
    """
    param_grads = {name: grads[name] for name in params}
    if max_grad_norm is None:
        norm = global_grad_norm(param_grads)
    else:
        param_grads, norm = clip_grad_norm(param_grads, max_grad_norm)
    for name, grad in param_grads.items():
        params[name] -= learning_rate * grad
    return norm
