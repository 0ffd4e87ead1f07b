"""Softmax and the softmax cross-entropy loss, with its gradient."""

from __future__ import annotations

import numpy as np

from seqlab.errors import SeqlabError


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, stable for any size of logits.

    Subtracting the row maximum first leaves the result unchanged (softmax is invariant to
    adding a constant to a row) and keeps ``exp`` from overflowing.

    Shape:
        (..., V) -> (..., V).
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis.

    Shape:
        (..., V) -> (..., V), each row summing to 1.
    """
    return np.exp(log_softmax(logits))


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of the softmax of ``logits`` against integer ``targets``.

    With N tokens, p = softmax(logits) and y the one-hot targets::

        L = -(1/N) Σ_n log p[n, targets[n]]        ∂L/∂logits = (p - y) / N

    Args:
        logits: unnormalised scores, any leading shape.
        targets: the index of the correct class for every token.

    Shape:
        logits (..., V), targets (...) -> d_logits (..., V).

    Returns:
        ``(loss, d_logits)``: the mean loss in nats per token and its gradient.
    """
    targets = np.asarray(targets)
    num_classes = logits.shape[-1]
    if targets.shape != logits.shape[:-1]:
        raise SeqlabError(f"targets of shape {targets.shape} do not match logits of shape {logits.shape}")
    if targets.size == 0:
        raise SeqlabError("cross-entropy of zero tokens is undefined")
    if targets.min() < 0 or targets.max() >= num_classes:
        raise SeqlabError(f"targets must lie in [0, {num_classes}), got {targets.min()}..{targets.max()}")
    log_probs = log_softmax(logits).reshape(-1, num_classes)  # (N, V)
    flat_targets = targets.reshape(-1)  # (N,)
    count = flat_targets.size
    loss = -log_probs[np.arange(count), flat_targets].mean()
    d_logits = np.exp(log_probs)  # p: (N, V)
    d_logits[np.arange(count), flat_targets] -= 1.0
    return float(loss), (d_logits / count).reshape(logits.shape)
