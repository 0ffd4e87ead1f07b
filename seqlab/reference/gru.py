"""The gated recurrent unit (Cho et al. 2014), as ``torch.nn.GRU`` and ``torch.nn.GRUCell``
compute it.

Forward, one step; the rows of the parameters are stacked in the order (r, z, n)::

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)             reset gate     (B, H)
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)             update gate    (B, H)
    n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))  candidate      (B, H)
    h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

As in torch (and cuDNN), the reset gate multiplies ``W_hn h_{t-1} + b_hn``, after the
matrix product; Cho et al. apply it to h_{t-1} before. Write u_t = W_hn h_{t-1} + b_hn.

Backward, one step, given δh_t = ∂L/∂h_t::

    δn_t = δh_t ⊙ (1 - z_t)               δz_t = δh_t ⊙ (h_{t-1} - n_t)
    δa_n = δn_t ⊙ (1 - n_t²)              pre-activation of n_t
    δr_t = δa_n ⊙ u_t
    δa_r = δr_t ⊙ r_t (1 - r_t)           δa_z = δz_t ⊙ z_t (1 - z_t)
    input term:  δ(W_i· x_t + b_i·) = (δa_r, δa_z, δa_n)
    hidden term: δ(W_h· h_{t-1} + b_h·) = (δa_r, δa_z, δa_n ⊙ r_t)
    δh_{t-1} = δh_t ⊙ z_t + (hidden term) W_hh

Example:
    >>> import numpy as np
    >>> from seqlab.reference import init_params
    >>> rng = np.random.default_rng(0)
    >>> params = init_params("gru", input_size=4, hidden_size=6, rng=rng)
    >>> outputs, h_n, cache = gru_forward(params, rng.normal(size=(5, 3, 4)))
    >>> grads = gru_backward(cache, np.ones_like(outputs))
    >>> outputs.shape, grads["weight_ih"].shape, grads["inputs"].shape
    ((5, 3, 6), (18, 4), (5, 3, 4))
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from seqlab.reference.activations import sigmoid, sigmoid_grad, tanh, tanh_grad
from seqlab.reference.bptt import (
    SequenceCache,
    backward_full,
    backward_truncated,
    forward_sequence,
    zero_hidden,
)
from seqlab.reference.parameters import affine_terms, affine_terms_backward


class GRUStepCache(NamedTuple):
    """What one GRU step keeps for its backward pass."""

    x: np.ndarray  # (B, I)
    h_prev: np.ndarray  # (B, H)
    r: np.ndarray  # (B, H)
    z: np.ndarray  # (B, H)
    n: np.ndarray  # (B, H)
    hidden_n: np.ndarray  # u_t = W_hn h_{t-1} + b_hn: (B, H)


def gru_step_forward(
    params: dict[str, np.ndarray], x: np.ndarray, state: tuple[np.ndarray]
) -> tuple[tuple[np.ndarray], GRUStepCache]:
    """One GRU step (equations in the module docstring).

    Args:
        params: ``weight_ih`` (3H, I), ``weight_hh`` (3H, H), ``bias_ih`` (3H,),
            ``bias_hh`` (3H,), rows in the order (r, z, n).
        x: the input x_t.
        state: ``(h_{t-1},)``.

    Shape:
        x (B, I), h_{t-1} (B, H) -> h_t (B, H).

    Returns:
        ``((h_t,), cache)``.
    """
    (h_prev,) = state
    from_input, from_hidden = affine_terms(params, x, h_prev)  # (B, 3H) each
    input_r, input_z, input_n = np.split(from_input, 3, axis=1)  # (B, H) each
    hidden_r, hidden_z, hidden_n = np.split(from_hidden, 3, axis=1)  # (B, H) each
    r = sigmoid(input_r + hidden_r)
    z = sigmoid(input_z + hidden_z)
    n = tanh(input_n + r * hidden_n)
    h = (1.0 - z) * n + z * h_prev
    return (h,), GRUStepCache(x, h_prev, r, z, n, hidden_n)


def gru_step_backward(
    params: dict[str, np.ndarray], d_state: tuple[np.ndarray], cache: GRUStepCache
) -> tuple[np.ndarray, tuple[np.ndarray], dict[str, np.ndarray]]:
    """Backward of :func:`gru_step_forward` (equations in the module docstring).

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
    x, h_prev, r, z, n, hidden_n = cache
    d_n = d_h * (1.0 - z)
    d_z = d_h * (h_prev - n)
    d_pre_n = d_n * tanh_grad(n)
    d_pre_r = d_pre_n * hidden_n * sigmoid_grad(r)
    d_pre_z = d_z * sigmoid_grad(z)
    d_from_input = np.concatenate([d_pre_r, d_pre_z, d_pre_n], axis=1)  # (B, 3H)
    d_from_hidden = np.concatenate([d_pre_r, d_pre_z, d_pre_n * r], axis=1)  # (B, 3H)
    d_x, d_h_prev, d_params = affine_terms_backward(params, x, h_prev, d_from_input, d_from_hidden)
    # h_{t-1} also reaches h_t directly, through the z_t ⊙ h_{t-1} term.
    return d_x, (d_h_prev + d_h * z,), d_params


def gru_forward(
    params: dict[str, np.ndarray], inputs: np.ndarray, h0: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, SequenceCache]:
    """Run the GRU over a sequence, like ``torch.nn.GRU`` with one layer.

    Args:
        params: the cell's parameters (see :func:`gru_step_forward`).
        inputs: the input sequence, time-major.
        h0: the initial hidden state; zeros when None.

    Shape:
        inputs (T, B, I), h0 (B, H) -> outputs (T, B, H), h_n (B, H).

    Returns:
        ``(outputs, h_n, cache)``; pass the cache to :func:`gru_backward`.
    """
    if h0 is None:
        h0 = zero_hidden(params, inputs)
    outputs, (h_n,), cache = forward_sequence(gru_step_forward, params, inputs, (h0,))
    return outputs, h_n, cache


def gru_backward(cache: SequenceCache, d_outputs: np.ndarray, d_h_n: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Full BPTT through :func:`gru_forward`.

    Args:
        cache: from :func:`gru_forward`.
        d_outputs: ∂L/∂outputs, the gradient reaching each h_t directly.
        d_h_n: ∂L/∂h_n when the loss also reads the final state.

    Shape:
        d_outputs (T, B, H), d_h_n (B, H).

    Returns:
        Gradients keyed ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``,
        ``inputs`` (T, B, I) and ``h0`` (B, H).
    """
    d_final = None if d_h_n is None else (d_h_n,)
    d_params, d_inputs, (d_h0,) = backward_full(gru_step_backward, cache, d_outputs, d_final)
    return {**d_params, "inputs": d_inputs, "h0": d_h0}


def gru_backward_truncated(
    cache: SequenceCache, d_outputs: np.ndarray, k: int, d_h_n: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Truncated BPTT(k) through :func:`gru_forward`.

    The gradient of the loss at step t reaches steps t, t-1, ..., t-k+1 only (see
    :mod:`seqlab.reference.bptt` for the definition); k >= T gives :func:`gru_backward`.

    Args:
        cache: from :func:`gru_forward`.
        d_outputs: ∂L/∂outputs.
        k: how many steps each loss term's gradient may flow back, k >= 1.
        d_h_n: ∂L/∂h_n, truncated like the loss at the last step.

    Shape:
        d_outputs (T, B, H), d_h_n (B, H).

    Returns:
        The same keys as :func:`gru_backward`.
    """
    d_final = None if d_h_n is None else (d_h_n,)
    d_params, d_inputs, (d_h0,) = backward_truncated(gru_step_backward, cache, d_outputs, k, d_final)
    return {**d_params, "inputs": d_inputs, "h0": d_h0}
