"""The four parameter arrays every cell owns, and the two affine maps that read them.

A cell with G gates and hidden size H keeps, exactly as ``torch.nn.RNN/GRU/LSTM`` do
(without the ``_l0`` suffix, as in ``torch.nn.RNNCell/GRUCell/LSTMCell``):

    weight_ih  (G*H, I)    weight_hh  (G*H, H)    bias_ih  (G*H,)    bias_hh  (G*H,)

The G blocks of H rows are stacked in the gate order of torch: one block for the RNN,
(r, z, n) for the GRU, (i, f, g, o) for the LSTM. Every cell starts from the same two terms

    from_input  = x W_ihᵀ + b_ih        from_hidden = h W_hhᵀ + b_hh

which the RNN and LSTM add together and the GRU keeps apart (its candidate gates only
the hidden term).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from seqlab.errors import SeqlabError

PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

# Gates per cell: how many blocks of H rows the parameters stack.
NUM_GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def init_params(cell: str, input_size: int, hidden_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Parameters of one cell, initialised like torch.

    Every entry is drawn from uniform(-1/√H, 1/√H), as ``torch.nn.RNN/GRU/LSTM`` do (the
    numbers differ from torch's, the distribution is the same).

    Args:
        cell: ``"rnn"``, ``"gru"`` or ``"lstm"``.
        input_size: I, the size of one input vector.
        hidden_size: H, the size of the hidden state.
        rng: the source of randomness.

    Returns:
        A dict with keys ``PARAM_NAMES`` holding float64 arrays.

    Shape:
        weight_ih (G*H, I), weight_hh (G*H, H), bias_ih (G*H,), bias_hh (G*H,).
    """
    if cell not in NUM_GATES:
        raise SeqlabError(f"unknown cell {cell!r}; expected one of {sorted(NUM_GATES)}")
    rows = NUM_GATES[cell] * hidden_size
    shapes = {
        "weight_ih": (rows, input_size),
        "weight_hh": (rows, hidden_size),
        "bias_ih": (rows,),
        "bias_hh": (rows,),
    }
    bound = 1.0 / np.sqrt(hidden_size)
    return {name: rng.uniform(-bound, bound, size=shapes[name]) for name in PARAM_NAMES}


def params_from_state_dict(state_dict: Mapping[str, Any], *, layer: int | None = 0) -> dict[str, np.ndarray]:
    """Float64 copies of one cell's parameters from a torch ``state_dict()``.

    Takes anything array-like, torch tensors included (duck-typed through their
    ``detach``), so this module still never imports torch.

    Args:
        state_dict: e.g. ``torch.nn.LSTM(...).state_dict()``, or any mapping of arrays.
        layer: the layer whose parameters to take, named ``weight_ih_l{layer}`` and so on in
            ``torch.nn.RNN/GRU/LSTM``; None for ``torch.nn.RNNCell/GRUCell/LSTMCell``,
            whose names have no suffix.

    Returns:
        A dict with keys ``PARAM_NAMES``.
    """
    suffix = "" if layer is None else f"_l{layer}"
    missing = [name + suffix for name in PARAM_NAMES if name + suffix not in state_dict]
    if missing:
        raise SeqlabError(f"state dict has no {missing}; it has {sorted(state_dict)}")
    params = {}
    for name in PARAM_NAMES:
        value = state_dict[name + suffix]
        if hasattr(value, "detach"):  # a torch tensor: out of autograd, to the CPU, to NumPy
            value = value.detach().cpu().numpy()
        params[name] = np.array(value, dtype=np.float64)
    return params


def affine_terms(params: dict[str, np.ndarray], x: np.ndarray, h_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The input term and the hidden term that every cell starts from.

    Args:
        params: the cell's parameters.
        x: the input at this step.
        h_prev: the hidden state from the previous step.

    Shape:
        x (B, I), h_prev (B, H) -> two arrays (B, G*H).

    Returns:
        ``(x W_ihᵀ + b_ih, h_prev W_hhᵀ + b_hh)``.
    """
    from_input = x @ params["weight_ih"].T + params["bias_ih"]  # (B, G*H)
    from_hidden = h_prev @ params["weight_hh"].T + params["bias_hh"]  # (B, G*H)
    return from_input, from_hidden


def affine_terms_backward(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    h_prev: np.ndarray,
    d_from_input: np.ndarray,
    d_from_hidden: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Backward of :func:`affine_terms`, given the gradients of its two results.

    Args:
        params: the cell's parameters.
        x: the input the forward pass read.
        h_prev: the hidden state the forward pass read.
        d_from_input: ∂L/∂(x W_ihᵀ + b_ih).
        d_from_hidden: ∂L/∂(h_prev W_hhᵀ + b_hh).

    Shape:
        x (B, I), h_prev (B, H), d_from_input and d_from_hidden (B, G*H).

    Returns:
        ``(d_x (B, I), d_h_prev (B, H), d_params)``; the bias gradients sum over the batch
        because the same bias is added to every row.
    """
    d_params = {
        "weight_ih": d_from_input.T @ x,  # (G*H, I)
        "weight_hh": d_from_hidden.T @ h_prev,  # (G*H, H)
        "bias_ih": d_from_input.sum(axis=0),  # (G*H,)
        "bias_hh": d_from_hidden.sum(axis=0),  # (G*H,)
    }
    d_x = d_from_input @ params["weight_ih"]  # (B, I)
    d_h_prev = d_from_hidden @ params["weight_hh"]  # (B, H)
    return d_x, d_h_prev, d_params
