"""Backpropagation through time: the loops over time that the RNN, GRU and LSTM share.

A cell enters these loops as two step functions::

    step_forward(params, x, state)              -> (next_state, step_cache)
    step_backward(params, d_next_state, cache)  -> (d_x, d_state, d_params)

A *state* is a tuple of (B, H) arrays whose first entry is the output h: ``(h,)`` for the
RNN and GRU, ``(h, c)`` for the LSTM.

Time is indexed like this: step t (0 <= t < T) reads the input x_t and the state s_{t-1}
and writes s_t; s_{-1} is the initial state and ``outputs[t]`` is h_t. The loss is

    L = Σ_t L_t(h_t) + L_final(s_{T-1})

and the backward functions are given ``d_outputs[t] = ∂L_t/∂h_t`` (the gradient that
reaches h_t directly, not through later steps, i.e. what autograd calls the output
gradient) and optionally ``d_final_state = ∂L_final/∂s_{T-1}``.

Full BPTT (Werbos 1990) runs the chain rule backwards once, adding at every h_t the
gradient of its own loss to the gradient coming back from step t+1.

Truncated BPTT(k) (Williams and Peng 1990; "BPTT(h)" in Williams and Zipser 1995) lets the
gradient of each loss term flow back at most k steps: the contribution of ∂L_t/∂h_t passes
through steps t, t-1, ..., max(t-k+1, 0) only, reaching their parameters and their inputs.
It then sits at the state that entered the oldest of those steps. If that is the initial
state s_{-1} (when t - k + 1 <= 0), a leaf, it is reported as the initial state's gradient;
otherwise it is s_{t-k}, and dropping it there is the truncation. The final-state gradient
counts as part of the loss at step T-1. With k >= T nothing is dropped and the result is
full BPTT, up to the order in which the terms are summed.

This is *not* the same as detaching the state every k steps (the torch recipe of cutting
the sequence into windows of k steps): there, a loss term in position j of its window
(j = 0..k-1) flows back only j + 1 steps, to the window's start, so the first term of
every window gets one step of backpropagation. Here every term gets k steps whatever its
position (fewer only where the sequence begins), at the price of O(T k) step backward calls
instead of O(T).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from seqlab.errors import SeqlabError
from seqlab.reference.parameters import PARAM_NAMES

State = tuple[np.ndarray, ...]
StepForward = Callable[[dict, np.ndarray, State], tuple[State, Any]]
StepBackward = Callable[[dict, State, Any], tuple[np.ndarray, State, dict]]


@dataclass
class SequenceCache:
    """What the backward loops need from one forward pass over a sequence.

    Attributes:
        params: the parameters the forward pass used (not a copy).
        inputs: the inputs, (T, B, I).
        initial_state: the state before step 0, a tuple of (B, H) arrays.
        steps: one cache per time step, as returned by the cell's ``step_forward``.
    """

    params: dict[str, np.ndarray]
    inputs: np.ndarray
    initial_state: State
    steps: list[Any]


def zero_hidden(params: dict[str, np.ndarray], inputs: np.ndarray) -> np.ndarray:
    """A zero hidden state for ``inputs``, the default initial state as in torch.

    Shape:
        inputs (T, B, I) -> (B, H).
    """
    inputs = np.asarray(inputs)
    _check_inputs(params, inputs)
    return np.zeros((inputs.shape[1], params["weight_hh"].shape[1]))


def _check_inputs(params: dict[str, np.ndarray], inputs: np.ndarray) -> None:
    """Raise :class:`SeqlabError` unless ``inputs`` is a non-empty (T, B, I) array."""
    input_size = params["weight_ih"].shape[1]
    if inputs.ndim != 3 or inputs.shape[0] == 0 or inputs.shape[2] != input_size:
        raise SeqlabError(f"inputs must have shape (T, B, {input_size}) with T >= 1, got {inputs.shape}")


def _check_state(params: dict[str, np.ndarray], inputs: np.ndarray, state: State) -> None:
    expected = (inputs.shape[1], params["weight_hh"].shape[1])  # (B, H)
    for entry in state:
        if entry.shape != expected:
            raise SeqlabError(f"each state array must have shape {expected}, got {entry.shape}")


def _check_output_grads(cache: SequenceCache, d_outputs: np.ndarray, d_final_state: State | None) -> None:
    """Refuse gradients that NumPy would otherwise broadcast into wrong answers."""
    batch, hidden = cache.initial_state[0].shape
    expected = (len(cache.steps), batch, hidden)  # (T, B, H)
    if np.shape(d_outputs) != expected:
        raise SeqlabError(f"d_outputs must have shape {expected}, got {np.shape(d_outputs)}")
    if d_final_state is None:
        return
    shapes = [np.shape(entry) for entry in d_final_state]
    if shapes != [(batch, hidden)] * len(cache.initial_state):
        raise SeqlabError(
            f"the final-state gradient must be {len(cache.initial_state)} array(s) of shape "
            f"{(batch, hidden)}, got shapes {shapes}"
        )


def forward_sequence(
    step_forward: StepForward,
    params: dict[str, np.ndarray],
    inputs: np.ndarray,
    initial_state: State,
) -> tuple[np.ndarray, State, SequenceCache]:
    """Run a cell over a sequence, keeping what the backward pass needs.

    Args:
        step_forward: the cell's step function.
        params: the cell's parameters.
        inputs: the input sequence.
        initial_state: s_{-1}.

    Shape:
        inputs (T, B, I), state entries (B, H) -> outputs (T, B, H).

    Returns:
        ``(outputs, final_state, cache)``: every h_t, the state s_{T-1}, and the cache.
    """
    inputs = np.asarray(inputs, dtype=np.float64)
    initial_state = tuple(np.asarray(entry, dtype=np.float64) for entry in initial_state)
    _check_inputs(params, inputs)
    _check_state(params, inputs, initial_state)
    state = initial_state
    outputs, steps = [], []
    for x in inputs:  # x: (B, I)
        state, step_cache = step_forward(params, x, state)
        outputs.append(state[0])  # h_t: (B, H)
        steps.append(step_cache)
    return np.stack(outputs), state, SequenceCache(params, inputs, initial_state, steps)


def backward_full(
    step_backward: StepBackward,
    cache: SequenceCache,
    d_outputs: np.ndarray,
    d_final_state: State | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray, State]:
    """Full backpropagation through time.

    Args:
        step_backward: the cell's backward step function.
        cache: from :func:`forward_sequence`.
        d_outputs: ∂L_t/∂h_t for every t.
        d_final_state: ∂L_final/∂s_{T-1}, or None when the loss does not read it.

    Shape:
        d_outputs (T, B, H), state entries (B, H).

    Returns:
        ``(d_params, d_inputs (T, B, I), d_initial_state)``.
    """
    _check_output_grads(cache, d_outputs, d_final_state)
    d_params = _zero_param_grads(cache.params)
    d_inputs = np.zeros_like(cache.inputs)
    d_state = _zeros_like(cache.initial_state) if d_final_state is None else tuple(d_final_state)
    for t in reversed(range(len(cache.steps))):
        # h_t feeds both its own loss term and step t+1: the two gradients add.
        d_state = (d_state[0] + d_outputs[t],) + d_state[1:]
        d_inputs[t], d_state, d_step = step_backward(cache.params, d_state, cache.steps[t])
        _accumulate(d_params, d_step)
    return d_params, d_inputs, d_state


def backward_truncated(
    step_backward: StepBackward,
    cache: SequenceCache,
    d_outputs: np.ndarray,
    k: int,
    d_final_state: State | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray, State]:
    """Truncated BPTT(k): each loss term's gradient flows back at most k steps.

    See the module docstring for the precise definition and how it differs from detaching
    the state every k steps. Each loss term is sent back through its own k steps, one
    term after the other, which is the definition written as a loop.

    Args:
        step_backward: the cell's backward step function.
        cache: from :func:`forward_sequence`.
        d_outputs: ∂L_t/∂h_t for every t.
        k: how many steps each term may flow back, k >= 1.
        d_final_state: ∂L_final/∂s_{T-1}, or None; it is truncated like L_{T-1}.

    Shape:
        d_outputs (T, B, H), state entries (B, H).

    Returns:
        ``(d_params, d_inputs (T, B, I), d_initial_state)``.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise SeqlabError(f"truncation length k must be an integer >= 1, got {k!r}")
    _check_output_grads(cache, d_outputs, d_final_state)
    d_params = _zero_param_grads(cache.params)
    d_inputs = np.zeros_like(cache.inputs)
    d_initial = _zeros_like(cache.initial_state)
    last = len(cache.steps) - 1
    for t in range(last + 1):
        d_state = (d_outputs[t],) + _zeros_like(cache.initial_state[1:])
        if t == last and d_final_state is not None:
            d_state = tuple(a + b for a, b in zip(d_state, d_final_state))
        oldest = max(t - k + 1, 0)
        for s in range(t, oldest - 1, -1):
            d_x, d_state, d_step = step_backward(cache.params, d_state, cache.steps[s])
            d_inputs[s] += d_x
            _accumulate(d_params, d_step)
        # d_state is now the gradient at s_{oldest-1}: kept only when that is the initial
        # state; otherwise it is exactly what the truncation drops.
        if oldest == 0:
            d_initial = tuple(a + b for a, b in zip(d_initial, d_state))
    return d_params, d_inputs, d_initial


def _zero_param_grads(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.zeros_like(params[name]) for name in PARAM_NAMES}


def _zeros_like(state: State) -> State:
    return tuple(np.zeros_like(entry) for entry in state)


def _accumulate(total: dict[str, np.ndarray], part: dict[str, np.ndarray]) -> None:
    for name, grad in part.items():
        total[name] += grad
