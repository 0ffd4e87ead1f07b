"""The output projection from hidden states to logits: logits = h W_hyᵀ + b_y."""

from __future__ import annotations

import numpy as np


def output_projection(hidden: np.ndarray, weight_hy: np.ndarray, bias_y: np.ndarray) -> np.ndarray:
    """Project hidden states to one score per class.

    Args:
        hidden: hidden states h, any leading shape (typically (T, B)).
        weight_hy: W_hy.
        bias_y: b_y.

    Shape:
        hidden (..., H), weight_hy (V, H), bias_y (V,) -> logits (..., V).

    Returns:
        ``hidden @ weight_hy.T + bias_y``.
    """
    return hidden @ weight_hy.T + bias_y


def output_projection_backward(
    d_logits: np.ndarray, hidden: np.ndarray, weight_hy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward of :func:`output_projection`.

    Args:
        d_logits: ∂L/∂logits.
        hidden: the hidden states the forward pass read.
        weight_hy: W_hy.

    Shape:
        d_logits (..., V), hidden (..., H) -> d_hidden (..., H), d_weight_hy (V, H),
        d_bias_y (V,).

    Returns:
        ``(d_hidden, d_weight_hy, d_bias_y)``; the weight and bias gradients sum over
        every leading position, since each one used the same W_hy and b_y.
    """
    flat_d_logits = d_logits.reshape(-1, d_logits.shape[-1])  # (N, V)
    flat_hidden = hidden.reshape(-1, hidden.shape[-1])  # (N, H)
    d_hidden = d_logits @ weight_hy  # (..., H)
    return d_hidden, flat_d_logits.T @ flat_hidden, flat_d_logits.sum(axis=0)
