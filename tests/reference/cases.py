"""The four cells of the reference behind one interface, for the tests that cover them all.

The interface speaks in state tuples, ``(h,)`` for the RNN and GRU and ``(h, c)`` for the
LSTM, so that one test body serves every cell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from seqlab.reference import (
    PARAM_NAMES,
    gru_backward,
    gru_backward_truncated,
    gru_forward,
    init_params,
    lstm_backward,
    lstm_backward_truncated,
    lstm_forward,
    rnn_backward,
    rnn_backward_truncated,
    rnn_forward,
)


@dataclass(frozen=True)
class CellCase:
    """One cell of the reference, seen through state tuples."""

    name: str  # the pytest id: torch's mode name in lower case
    kind: str  # the cell argument of init_params
    state_names: tuple[str, ...]  # keys of the initial-state gradients
    forward: Callable  # (params, inputs, state) -> (outputs, final_state, cache)
    backward: Callable  # (cache, d_outputs, d_final_state or None) -> grads
    backward_truncated: Callable  # (cache, d_outputs, k, d_final_state or None) -> grads


def _first(state):
    return None if state is None else state[0]


def _rnn_case(nonlinearity: str) -> CellCase:
    def forward(params, inputs, state):
        outputs, h_n, cache = rnn_forward(params, inputs, state[0], nonlinearity=nonlinearity)
        return outputs, (h_n,), cache

    return CellCase(
        name=f"rnn_{nonlinearity}",
        kind="rnn",
        state_names=("h0",),
        forward=forward,
        backward=lambda cache, d_out, d_n: rnn_backward(cache, d_out, _first(d_n)),
        backward_truncated=lambda cache, d_out, k, d_n: rnn_backward_truncated(cache, d_out, k, _first(d_n)),
    )


def _gru_forward(params, inputs, state):
    outputs, h_n, cache = gru_forward(params, inputs, state[0])
    return outputs, (h_n,), cache


CELL_CASES = [
    _rnn_case("tanh"),
    _rnn_case("relu"),
    CellCase(
        name="gru",
        kind="gru",
        state_names=("h0",),
        forward=_gru_forward,
        backward=lambda cache, d_out, d_n: gru_backward(cache, d_out, _first(d_n)),
        backward_truncated=lambda cache, d_out, k, d_n: gru_backward_truncated(cache, d_out, k, _first(d_n)),
    ),
    CellCase(
        name="lstm",
        kind="lstm",
        state_names=("h0", "c0"),
        forward=lstm_forward,
        backward=lstm_backward,
        backward_truncated=lstm_backward_truncated,
    ),
]


@dataclass
class Problem:
    """A cell, its parameters and inputs, and the loss L = Σ d_outputs ⊙ outputs +
    Σ d_final ⊙ final_state, whose output gradients are d_outputs and d_final."""

    case: CellCase
    params: dict[str, np.ndarray]
    inputs: np.ndarray  # (T, B, I)
    state0: tuple[np.ndarray, ...]  # entries (B, H)
    d_outputs: np.ndarray  # (T, B, H)
    d_final: tuple[np.ndarray, ...]  # entries (B, H)

    def loss(self) -> float:
        """L computed afresh from the current arrays (they are perturbed in place)."""
        outputs, final_state, _ = self.case.forward(self.params, self.inputs, self.state0)
        final_terms = sum(np.sum(d * s) for d, s in zip(self.d_final, final_state))
        return float(np.sum(self.d_outputs * outputs) + final_terms)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array L depends on, by the name its gradient has."""
        states = dict(zip(self.case.state_names, self.state0))
        return {**self.params, "inputs": self.inputs, **states}

    def cache(self):
        return self.case.forward(self.params, self.inputs, self.state0)[2]


def make_problem(
    case: CellCase,
    seed: int = 0,
    *,
    steps: int = 5,
    batch: int = 3,
    input_size: int = 4,
    hidden_size: int = 6,
) -> Problem:
    """A small random problem: T=5, B=3, I=4, H=6 unless told otherwise."""
    rng = np.random.default_rng(seed)
    params = init_params(case.kind, input_size, hidden_size, rng)
    state_shape = (batch, hidden_size)
    return Problem(
        case=case,
        params=params,
        inputs=rng.normal(size=(steps, batch, input_size)),
        state0=tuple(rng.normal(size=state_shape) for _ in case.state_names),
        d_outputs=rng.normal(size=(steps, batch, hidden_size)),
        d_final=tuple(rng.normal(size=state_shape) for _ in case.state_names),
    )


GRAD_NAMES = PARAM_NAMES + ("inputs",)
