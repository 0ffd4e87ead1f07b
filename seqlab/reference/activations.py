"""The elementwise nonlinearities of the cells, and their derivatives.

Each derivative is written in terms of the function's *output* y rather than its input,
because the output is what the forward pass keeps and what the papers write:

    σ'(a) = y (1 - y)        tanh'(a) = 1 - y²        relu'(a) = [y > 0]

(``relu'`` at 0 is taken to be 0, as torch does.)
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function σ(x) = 1 / (1 + e^(-x)), without overflow for large |x|.

    For x < 0 it uses the equal form e^x / (1 + e^x), so ``exp`` only ever sees -|x|.
    """
    decay = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + decay), decay / (1.0 + decay))


def sigmoid_grad(y: np.ndarray) -> np.ndarray:
    """Derivative of the sigmoid at the point where it output ``y``."""
    return y * (1.0 - y)


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent."""
    return np.tanh(x)


def tanh_grad(y: np.ndarray) -> np.ndarray:
    """Derivative of tanh at the point where it output ``y``."""
    return 1.0 - y * y


def relu(x: np.ndarray) -> np.ndarray:
    """Rectified linear unit max(x, 0)."""
    return np.maximum(x, 0.0)


def relu_grad(y: np.ndarray) -> np.ndarray:
    """Derivative of relu at the point where it output ``y`` (0 where y = 0)."""
    return (y > 0.0).astype(y.dtype)


# The choices of torch.nn.RNN(nonlinearity=...): name -> (function, derivative from output).
NONLINEARITIES = {"tanh": (tanh, tanh_grad), "relu": (relu, relu_grad)}
