"""The public sequence functions: defaults like torch, and shapes checked with clear errors."""

import numpy as np
import pytest

from seqlab.errors import SeqlabError
from seqlab.reference import (
    gru_forward,
    init_params,
    lstm_backward,
    lstm_forward,
    rnn_backward,
    rnn_forward,
)

T, B, I, H = 4, 2, 3, 5


def _params(cell):
    return init_params(cell, I, H, np.random.default_rng(0))


def _inputs():
    return np.random.default_rng(1).normal(size=(T, B, I))


@pytest.mark.parametrize(
    "run, zeros",
    [
        (lambda inputs, state: rnn_forward(_params("rnn"), inputs, state), np.zeros((B, H))),
        (lambda inputs, state: gru_forward(_params("gru"), inputs, state), np.zeros((B, H))),
        (
            lambda inputs, state: lstm_forward(_params("lstm"), inputs, state),
            (np.zeros((B, H)), np.zeros((B, H))),
        ),
    ],
    ids=["rnn", "gru", "lstm"],
)
def test_missing_initial_state_means_zeros(run, zeros):
    implicit, _, _ = run(_inputs(), None)
    explicit, _, _ = run(_inputs(), zeros)

    np.testing.assert_array_equal(implicit, explicit)


def test_outputs_are_the_hidden_states_and_the_last_is_the_final_state():
    outputs, (h_n, c_n), cache = lstm_forward(_params("lstm"), _inputs())

    assert outputs.shape == (T, B, H) and c_n.shape == (B, H)
    np.testing.assert_array_equal(outputs[-1], h_n)
    assert len(cache.steps) == T


@pytest.mark.parametrize(
    "inputs_shape, h0_shape, message",
    [
        ((T, B), (B, H), r"inputs must have shape \(T, B, 3\)"),
        ((T, B, I + 1), (B, H), r"inputs must have shape \(T, B, 3\)"),
        ((0, B, I), (B, H), "T >= 1"),
        ((T, B, I), (B + 1, H), r"state array must have shape \(2, 5\)"),
        ((T, B, I), (H,), r"state array must have shape \(2, 5\)"),
    ],
)
def test_forward_rejects_wrong_shapes(inputs_shape, h0_shape, message):
    with pytest.raises(SeqlabError, match=message):
        rnn_forward(_params("rnn"), np.zeros(inputs_shape), np.zeros(h0_shape))


def test_backward_rejects_gradients_numpy_would_broadcast():
    outputs, h_n, cache = rnn_forward(_params("rnn"), _inputs())

    with pytest.raises(SeqlabError, match=r"d_outputs must have shape \(4, 2, 5\)"):
        rnn_backward(cache, np.ones(H))
    with pytest.raises(SeqlabError, match="final-state gradient"):
        rnn_backward(cache, np.ones_like(outputs), np.ones(H))


def test_lstm_final_state_gradient_needs_both_h_and_c():
    outputs, _, cache = lstm_forward(_params("lstm"), _inputs())

    with pytest.raises(SeqlabError, match=r"2 array\(s\)"):
        lstm_backward(cache, np.ones_like(outputs), (np.ones((B, H)),))


def test_unknown_names_are_refused():
    with pytest.raises(SeqlabError, match="unknown nonlinearity 'sigmoid'"):
        rnn_forward(_params("rnn"), _inputs(), nonlinearity="sigmoid")
    with pytest.raises(SeqlabError, match="unknown cell 'lstm2'"):
        init_params("lstm2", I, H, np.random.default_rng(0))
