"""Long short-term memory (Hochreiter and Schmidhuber 1997, with the forget gate of Gers et
al. 2000), as ``torch.nn.LSTM`` and ``torch.nn.LSTMCell`` compute it.

Forward, one step; the rows of the parameters are stacked in the order (i, f, g, o)::

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh           (B, 4H), split into a_i, a_f, a_g, a_o
    i_t = σ(a_i)    f_t = σ(a_f)    g_t = tanh(a_g)    o_t = σ(a_o)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)

Backward, one step, given δh_t = ∂L/∂h_t and δc_t = ∂L/∂c_t reaching from later steps::

    δo_t  = δh_t ⊙ tanh(c_t)
    δc    = δc_t + δh_t ⊙ o_t ⊙ (1 - tanh²(c_t))      c_t reaches the loss directly and via h_t
    δi_t  = δc ⊙ g_t     δg_t = δc ⊙ i_t     δf_t = δc ⊙ c_{t-1}
    δc_{t-1} = δc ⊙ f_t
    δa_t  = (δi_t ⊙ i_t(1-i_t), δf_t ⊙ f_t(1-f_t), δg_t ⊙ (1-g_t²), δo_t ⊙ o_t(1-o_t))
    δx_t  = δa_t W_ih    δh_{t-1} = δa_t W_hh    ∂L/∂W_ih += δa_tᵀ x_t    (and so on)

Example:
    >>> import numpy as np
    >>> from seqlab.reference import init_params
    >>> rng = np.random.default_rng(0)
    >>> params = init_params("lstm", input_size=4, hidden_size=6, rng=rng)
    >>> outputs, (h_n, c_n), cache = lstm_forward(params, rng.normal(size=(5, 3, 4)))
    >>> grads = lstm_backward(cache, np.ones_like(outputs))
    >>> outputs.shape, grads["weight_hh"].shape, grads["c0"].shape
    ((5, 3, 6), (24, 6), (3, 6))
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

LSTMState = tuple[np.ndarray, np.ndarray]


class LSTMStepCache(NamedTuple):
    """What one LSTM step keeps for its backward pass."""

    x: np.ndarray  # (B, I)
    h_prev: np.ndarray  # (B, H)
    c_prev: np.ndarray  # (B, H)
    i: np.ndarray  # input gate (B, H)
    f: np.ndarray  # forget gate (B, H)
    g: np.ndarray  # candidate cell (B, H)
    o: np.ndarray  # output gate (B, H)
    tanh_c: np.ndarray  # tanh(c_t) (B, H)


def lstm_step_forward(
    params: dict[str, np.ndarray], x: np.ndarray, state: LSTMState
) -> tuple[LSTMState, LSTMStepCache]:
    """One LSTM step (equations in the module docstring).

    Args:
        params: ``weight_ih`` (4H, I), ``weight_hh`` (4H, H), ``bias_ih`` (4H,),
            ``bias_hh`` (4H,), rows in the order (i, f, g, o).
        x: the input x_t.
        state: ``(h_{t-1}, c_{t-1})``.

    Shape:
        x (B, I), h_{t-1} and c_{t-1} (B, H) -> h_t and c_t (B, H).

    Returns:
        ``((h_t, c_t), cache)``.
    """
    h_prev, c_prev = state
    from_input, from_hidden = affine_terms(params, x, h_prev)  # (B, 4H) each
    pre_i, pre_f, pre_g, pre_o = np.split(from_input + from_hidden, 4, axis=1)  # (B, H) each
    i, f, g, o = sigmoid(pre_i), sigmoid(pre_f), tanh(pre_g), sigmoid(pre_o)
    c = f * c_prev + i * g
    tanh_c = tanh(c)
    h = o * tanh_c
    return (h, c), LSTMStepCache(x, h_prev, c_prev, i, f, g, o, tanh_c)


def lstm_step_backward(
    params: dict[str, np.ndarray], d_state: LSTMState, cache: LSTMStepCache
) -> tuple[np.ndarray, LSTMState, dict[str, np.ndarray]]:
    """Backward of :func:`lstm_step_forward` (equations in the module docstring).

    Args:
        params: the parameters of the forward step.
        d_state: ``(δh_t, δc_t)``, the whole gradients reaching h_t and c_t.
        cache: from the forward step.

    Shape:
        δh_t, δc_t (B, H) -> δx_t (B, I), δh_{t-1} and δc_{t-1} (B, H).

    Returns:
        ``(δx_t, (δh_{t-1}, δc_{t-1}), d_params)`` with this step's share of each
        parameter gradient.
    """
    d_h, d_c_next = d_state
    x, h_prev, c_prev, i, f, g, o, tanh_c = cache
    d_o = d_h * tanh_c
    d_c = d_c_next + d_h * o * tanh_grad(tanh_c)
    d_pre = np.concatenate(
        [
            d_c * g * sigmoid_grad(i),
            d_c * c_prev * sigmoid_grad(f),
            d_c * i * tanh_grad(g),
            d_o * sigmoid_grad(o),
        ],
        axis=1,
    )  # δa_t: (B, 4H)
    d_x, d_h_prev, d_params = affine_terms_backward(params, x, h_prev, d_pre, d_pre)
    return d_x, (d_h_prev, d_c * f), d_params


def lstm_forward(
    params: dict[str, np.ndarray], inputs: np.ndarray, state0: LSTMState | None = None
) -> tuple[np.ndarray, LSTMState, SequenceCache]:
    """Run the LSTM over a sequence, like ``torch.nn.LSTM`` with one layer.

    Args:
        params: the cell's parameters (see :func:`lstm_step_forward`).
        inputs: the input sequence, time-major.
        state0: ``(h0, c0)``, the initial state; zeros when None.

    Shape:
        inputs (T, B, I), h0 and c0 (B, H) -> outputs (T, B, H), h_n and c_n (B, H).

    Returns:
        ``(outputs, (h_n, c_n), cache)``; pass the cache to :func:`lstm_backward`.
    """
    if state0 is None:
        state0 = (zero_hidden(params, inputs), zero_hidden(params, inputs))
    outputs, state_n, cache = forward_sequence(lstm_step_forward, params, inputs, tuple(state0))
    return outputs, state_n, cache


def lstm_backward(
    cache: SequenceCache, d_outputs: np.ndarray, d_state_n: LSTMState | None = None
) -> dict[str, np.ndarray]:
    """Full BPTT through :func:`lstm_forward`.

    Args:
        cache: from :func:`lstm_forward`.
        d_outputs: ∂L/∂outputs, the gradient reaching each h_t directly.
        d_state_n: ``(∂L/∂h_n, ∂L/∂c_n)`` when the loss also reads the final state.

    Shape:
        d_outputs (T, B, H), each entry of d_state_n (B, H).

    Returns:
        Gradients keyed ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``,
        ``inputs`` (T, B, I), ``h0`` and ``c0`` (B, H).
    """
    d_params, d_inputs, (d_h0, d_c0) = backward_full(lstm_step_backward, cache, d_outputs, d_state_n)
    return {**d_params, "inputs": d_inputs, "h0": d_h0, "c0": d_c0}


def lstm_backward_truncated(
    cache: SequenceCache, d_outputs: np.ndarray, k: int, d_state_n: LSTMState | None = None
) -> dict[str, np.ndarray]:
    """Truncated BPTT(k) through :func:`lstm_forward`.

    The gradient of the loss at step t reaches steps t, t-1, ..., t-k+1 only, along both
    h and c (see :mod:`seqlab.reference.bptt`); k >= T gives :func:`lstm_backward`.

    Args:
        cache: from :func:`lstm_forward`.
        d_outputs: ∂L/∂outputs.
        k: how many steps each loss term's gradient may flow back, k >= 1.
        d_state_n: ``(∂L/∂h_n, ∂L/∂c_n)``, truncated like the loss at the last step.

    Shape:
        d_outputs (T, B, H), each entry of d_state_n (B, H).

    Returns:
        The same keys as :func:`lstm_backward`.
    """
    d_params, d_inputs, (d_h0, d_c0) = backward_truncated(lstm_step_backward, cache, d_outputs, k, d_state_n)
    return {**d_params, "inputs": d_inputs, "h0": d_h0, "c0": d_c0}
