"""Numerical gradient checking by central differences.

The analytic gradient of a backward pass is compared with the five-point central difference

    ∂L/∂θ_j ≈ (8 (L(θ + ε e_j) - L(θ - ε e_j)) - (L(θ + 2ε e_j) - L(θ - 2ε e_j))) / 12ε

whose error is O(ε⁴) from truncation plus about ulp(L)/ε from rounding: about 1e-12 at
ε = 1e-3 in float64. The familiar two-point formula (L(θ + ε e_j) - L(θ - ε e_j)) / 2ε is
only O(ε²), so it is at best about 1e-10 off (near ε = 1e-5): a relative error above 1e-6
on the entries below 1e-4 that BPTT gradients do have. The comparison is the relative
error of each entry,

    |a - n| / max(|a| + |n|, tiny)

maximised over the entries of each array: about 1e-8 or smaller for a correct float64
gradient, near 1 for a wrong one. Near a kink (relu at 0) no difference formula is right:
check that no perturbation crosses one.

Example:
    >>> import numpy as np
    >>> from seqlab.reference import init_params, lstm_backward, lstm_forward
    >>> rng = np.random.default_rng(0)
    >>> params = init_params("lstm", 4, 6, rng)
    >>> inputs = rng.normal(size=(5, 3, 4))
    >>> weights = rng.normal(size=(5, 3, 6))   # the loss: a fixed random weighting of outputs
    >>> def loss():
    ...     return float(np.sum(weights * lstm_forward(params, inputs)[0]))
    >>> grads = lstm_backward(lstm_forward(params, inputs)[2], weights)
    >>> errors = gradient_check(loss, {**params, "inputs": inputs}, grads)
    >>> max(errors.values()) < 1e-6
    True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from seqlab.errors import SeqlabError


def numerical_gradient(loss_fn: Callable[[], float], array: np.ndarray, *, eps: float = 1e-3) -> np.ndarray:
    """Five-point central-difference estimate of ∂loss/∂array.

    Args:
        loss_fn: computes the loss, reading ``array`` itself (not a copy of it): each entry
            is perturbed in place in turn, and restored before the next.
        array: a float64 array the loss depends on.
        eps: the perturbation ε.

    Shape:
        any -> the same as ``array``.

    Returns:
        The estimated gradient.
    """
    if array.dtype != np.float64:
        raise SeqlabError(f"gradient checks need float64 arrays, got {array.dtype}")
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        losses = {}
        for multiple in (-2, -1, 1, 2):
            array[index] = original + multiple * eps
            losses[multiple] = loss_fn()
        array[index] = original
        # Differences of nearby losses first: they are exact, so equal losses give exactly 0.
        near, far = losses[1] - losses[-1], losses[2] - losses[-2]
        grad[index] = (8 * near - far) / (12 * eps)
    return grad


def relative_error(analytic: np.ndarray, numerical: np.ndarray, *, tiny: float = 1e-300) -> float:
    """Largest entrywise relative error ``|a - n| / max(|a| + |n|, tiny)``.

    ``tiny`` only guards 0/0: where both gradients are exactly zero the error is 0.

    Shape:
        analytic and numerical must have the same shape.
    """
    if analytic.shape != numerical.shape:
        raise SeqlabError(f"shapes differ: {analytic.shape} and {numerical.shape}")
    if analytic.size == 0:
        return 0.0
    denominator = np.maximum(np.abs(analytic) + np.abs(numerical), tiny)
    return float(np.max(np.abs(analytic - numerical) / denominator))


def gradient_check(
    loss_fn: Callable[[], float],
    arrays: dict[str, np.ndarray],
    analytic: dict[str, np.ndarray],
    *,
    eps: float = 1e-3,
) -> dict[str, float]:
    """Compare analytic gradients with central differences, array by array.

    Works for any model: ``arrays`` may hold parameters, inputs and initial states alike,
    as long as ``loss_fn`` reads those very arrays.

    Args:
        loss_fn: computes the loss from the current contents of ``arrays``.
        arrays: the float64 arrays to check, by name (perturbed in place, then restored).
        analytic: the gradient claimed for each name in ``arrays``.
        eps: the perturbation ε.

    Returns:
        The relative error (see :func:`relative_error`) for each name in ``arrays``.
    """
    missing = sorted(set(arrays) - set(analytic))
    if missing:
        raise SeqlabError(f"no analytic gradient for {missing}")
    return {
        name: relative_error(analytic[name], numerical_gradient(loss_fn, array, eps=eps))
        for name, array in arrays.items()
    }
