"""The Elman RNN (Elman 1990), as ``torch.nn.RNN`` and ``torch.nn.RNNCell`` compute it.

Forward, one step, with φ = tanh or relu::

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh          (B, H)
    h_t = φ(a_t)

Backward, one step, given δh_t = ∂L/∂h_t (everything that reaches h_t)::

    δa_t      = δh_t ⊙ φ'(a_t)        with φ' read from h_t: 1 - h_t² or [h_t > 0]
    ∂L/∂W_ih += δa_tᵀ x_t              ∂L/∂b_ih += Σ_batch δa_t   (and likewise W_hh, b_hh)
    δx_t      = δa_t W_ih
    δh_{t-1}  = δa_t W_hh               (this step's share; BPTT adds the loss at t-1)

Example:
    >>> import numpy as np
    >>> from seqlab.reference import init_params
    >>> rng = np.random.default_rng(0)
    >>> params = init_params("rnn", input_size=4, hidden_size=6, rng=rng)
    >>> outputs, h_n, cache = rnn_forward(params, rng.normal(size=(5, 3, 4)))
    >>> grads = rnn_backward(cache, np.ones_like(outputs))
    >>> outputs.shape, grads["weight_hh"].shape, grads["h0"].shape
    ((5, 3, 6), (6, 6), (3, 6))
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np

from seqlab.errors import SeqlabError
from seqlab.reference.activations import NONLINEARITIES
from seqlab.reference.bptt import (
    SequenceCache,
    backward_full,
    backward_truncated,
    forward_sequence,
    zero_hidden,
)
from seqlab.reference.parameters import affine_terms, affine_terms_backward


class RNNStepCache(NamedTuple):
    """What one RNN step keeps for its backward pass."""

    x: np.ndarray  # (B, I)
    h_prev: np.ndarray  # (B, H)
    h: np.ndarray  # (B, H)
    nonlinearity: str


def rnn_step_forward(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    state: tuple[np.ndarray],
    *,
    nonlinearity: str = "tanh",
) -> tuple[tuple[np.ndarray], RNNStepCache]:
    """One step h_t = φ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).

    Args:
        params: ``weight_ih`` (H, I), ``weight_hh`` (H, H), ``bias_ih`` (H,), ``bias_hh`` (H,).
        x: the input x_t.
        state: ``(h_{t-1},)``, a tuple so that the shared loops serve every cell.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Shape:
        x (B, I), h_{t-1} (B, H) -> h_t (B, H).

    Returns:
        ``((h_t,), cache)``.
    """
    (h_prev,) = state
    activation, _ = NONLINEARITIES[nonlinearity]
    from_input, from_hidden = affine_terms(params, x, h_prev)  # (B, H) each
    h = activation(from_input + from_hidden)
    return (h,), RNNStepCache(x, h_prev, h, nonlinearity)


def rnn_step_backward(
    params: dict[str, np.ndarray], d_state: tuple[np.ndarray], cache: RNNStepCache
) -> tuple[np.ndarray, tuple[np.ndarray], dict[str, np.ndarray]]:
    """Backward of :func:`rnn_step_forward`.

    Args:
        params: the parameters of the forward step.
        d_state: ``(δh_t,)``, the whole gradient reaching h_t.
        cache: from the forward step.

    Shape:
        δh_t (B, H) -> δx_t (B, I), δh_{t-1} (B, H).

    Returns:
        ``(δx_t, (δh_{t-1},), d_params)`` with this step's share of each parameter gradient.
    """
    (d_h,) = d_state
    _, derivative = NONLINEARITIES[cache.nonlinearity]
    d_pre = d_h * derivative(cache.h)  # δa_t: (B, H)
    d_x, d_h_prev, d_params = affine_terms_backward(params, cache.x, cache.h_prev, d_pre, d_pre)
    return d_x, (d_h_prev,), d_params


def rnn_forward(
    params: dict[str, np.ndarray],
    inputs: np.ndarray,
    h0: np.ndarray | None = None,
    *,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, np.ndarray, SequenceCache]:
    """Run the RNN over a sequence, like ``torch.nn.RNN`` with one layer.

    Args:
        params: the cell's parameters (see :func:`rnn_step_forward`).
        inputs: the input sequence, time-major.
        h0: the initial hidden state; zeros when None.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Shape:
        inputs (T, B, I), h0 (B, H) -> outputs (T, B, H), h_n (B, H).

    Returns:
        ``(outputs, h_n, cache)``; pass the cache to :func:`rnn_backward`.
    """
    if nonlinearity not in NONLINEARITIES:
        raise SeqlabError(f"unknown nonlinearity {nonlinearity!r}; expected one of {sorted(NONLINEARITIES)}")
    if h0 is None:
        h0 = zero_hidden(params, inputs)
    step = partial(rnn_step_forward, nonlinearity=nonlinearity)
    outputs, (h_n,), cache = forward_sequence(step, params, inputs, (h0,))
    return outputs, h_n, cache


def rnn_backward(cache: SequenceCache, d_outputs: np.ndarray, d_h_n: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Full BPTT through :func:`rnn_forward`.

    Args:
        cache: from :func:`rnn_forward`.
        d_outputs: ∂L/∂outputs, the gradient reaching each h_t directly.
        d_h_n: ∂L/∂h_n when the loss also reads the final state.

    Shape:
        d_outputs (T, B, H), d_h_n (B, H).

    Returns:
        Gradients keyed ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``,
        ``inputs`` (T, B, I) and ``h0`` (B, H).
    """
    d_final = None if d_h_n is None else (d_h_n,)
    d_params, d_inputs, (d_h0,) = backward_full(rnn_step_backward, cache, d_outputs, d_final)
    return {**d_params, "inputs": d_inputs, "h0": d_h0}


def rnn_backward_truncated(
    cache: SequenceCache, d_outputs: np.ndarray, k: int, d_h_n: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Truncated BPTT(k) through :func:`rnn_forward`.

    The gradient of the loss at step t reaches steps t, t-1, ..., t-k+1 only (see
    :mod:`seqlab.reference.bptt` for the definition); k >= T gives :func:`rnn_backward`.

    Args:
        cache: from :func:`rnn_forward`.
        d_outputs: ∂L/∂outputs.
        k: how many steps each loss term's gradient may flow back, k >= 1.
        d_h_n: ∂L/∂h_n, truncated like the loss at the last step.

    Shape:
        d_outputs (T, B, H), d_h_n (B, H).

    Returns:
        The same keys as :func:`rnn_backward`.
    """
    d_final = None if d_h_n is None else (d_h_n,)
    d_params, d_inputs, (d_h0,) = backward_truncated(rnn_step_backward, cache, d_outputs, k, d_final)
    return {**d_params, "inputs": d_inputs, "h0": d_h0}
