"""seqlab.nn against the NumPy reference (seqlab.reference): the oracle with hand-written BPTT.

Both run in float64. Values must agree to 1e-12 and gradients to 1e-10: the reference
computes the same equations with a different association order, nothing more.
"""

import numpy as np
import pytest
import torch

import seqlab.nn as snn
from seqlab import reference

T, B, I, H = 7, 3, 4, 5
VALUE_TOLERANCE = dict(rtol=0, atol=1e-12)
GRADIENT_TOLERANCE = dict(rtol=0, atol=1e-10)

# kind -> (our layer, reference forward, full backward, truncated backward, state names)
KINDS = {
    "rnn_tanh": (
        lambda **kw: snn.RNN(I, H, nonlinearity="tanh", **kw),
        lambda p, x, s: reference.rnn_forward(p, x, s[0], nonlinearity="tanh"),
        reference.rnn_backward,
        reference.rnn_backward_truncated,
        ("h0",),
    ),
    "rnn_relu": (
        lambda **kw: snn.RNN(I, H, nonlinearity="relu", **kw),
        lambda p, x, s: reference.rnn_forward(p, x, s[0], nonlinearity="relu"),
        reference.rnn_backward,
        reference.rnn_backward_truncated,
        ("h0",),
    ),
    "gru": (
        lambda **kw: snn.GRU(I, H, **kw),
        lambda p, x, s: reference.gru_forward(p, x, s[0]),
        reference.gru_backward,
        reference.gru_backward_truncated,
        ("h0",),
    ),
    "lstm": (
        lambda **kw: snn.LSTM(I, H, **kw),
        lambda p, x, s: reference.lstm_forward(p, x, s),
        reference.lstm_backward,
        reference.lstm_backward_truncated,
        ("h0", "c0"),
    ),
}


def _setup(kind, implementation):
    make_layer, forward, *_ = KINDS[kind]
    layer = make_layer(dtype=torch.float64, implementation=implementation)
    params = {name.removesuffix("_l0"): p.detach().numpy().copy() for name, p in layer.named_parameters()}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, B, I))
    state = tuple(rng.standard_normal((B, H)) * 0.5 for _ in KINDS[kind][4])
    d_outputs = rng.standard_normal((T, B, H))  # the loss is Σ d_outputs ⊙ outputs
    return layer, forward, params, x, state, d_outputs


def _torch_state(state, requires_grad=True):
    tensors = tuple(torch.tensor(s)[None].requires_grad_(requires_grad) for s in state)
    return tensors if len(tensors) == 2 else tensors[0]


def _as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("implementation", ["auto", "per_step"])
def test_forward_and_full_bptt_equal_the_reference(kind, implementation):
    layer, forward, params, x, state, d_outputs = _setup(kind, implementation)
    outputs, final, cache = forward(params, x, state)
    expected_grads = KINDS[kind][2](cache, d_outputs)

    x_t = torch.tensor(x, requires_grad=True)
    hx = _torch_state(state)
    out, final_t = layer(x_t, hx)
    torch.testing.assert_close(out, torch.tensor(outputs), **VALUE_TOLERANCE)
    for ours, theirs in zip(_as_tuple(final_t), _as_tuple(final), strict=True):
        torch.testing.assert_close(ours[0], torch.tensor(theirs), **VALUE_TOLERANCE)

    out.backward(torch.tensor(d_outputs))
    for name, param in layer.named_parameters():
        torch.testing.assert_close(
            param.grad, torch.tensor(expected_grads[name.removesuffix("_l0")]), **GRADIENT_TOLERANCE
        )
    torch.testing.assert_close(x_t.grad, torch.tensor(expected_grads["inputs"]), **GRADIENT_TOLERANCE)
    for tensor, name in zip(_as_tuple(hx), KINDS[kind][4]):
        torch.testing.assert_close(tensor.grad[0], torch.tensor(expected_grads[name]), **GRADIENT_TOLERANCE)


def _gradients_detached_k_steps_back(layer, x, state, d_outputs, k):
    """seqlab.nn gradients when each loss term L_t may flow back only to step t-k+1.

    For every t, the state before step t-k+1 is computed without a graph (detached) and
    the layer is run from there to t; only L_t is backpropagated. The sum over t is the
    truncated BPTT(k) gradient.
    """
    x_t = torch.tensor(x, requires_grad=True)
    hx = _torch_state(state)
    layer.zero_grad()
    for t in range(T):
        start = max(t - k + 1, 0)
        if start == 0:
            initial = hx
        else:
            with torch.no_grad():
                _, initial = layer(x_t[:start], hx)
        out, _ = layer(x_t[start : t + 1], initial)
        out[-1].backward(torch.tensor(d_outputs[t]))
    return layer, x_t, hx


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("k", [1, 3])
def test_truncated_bptt_equals_detaching_the_state_k_steps_back(kind, k):
    layer, forward, params, x, state, d_outputs = _setup(kind, "per_step")
    _, _, cache = forward(params, x, state)
    expected = KINDS[kind][3](cache, d_outputs, k)
    layer, x_t, hx = _gradients_detached_k_steps_back(layer, x, state, d_outputs, k)
    for name, param in layer.named_parameters():
        torch.testing.assert_close(param.grad, torch.tensor(expected[name.removesuffix("_l0")]), **GRADIENT_TOLERANCE)
    torch.testing.assert_close(x_t.grad, torch.tensor(expected["inputs"]), **GRADIENT_TOLERANCE)
    for tensor, name in zip(_as_tuple(hx), KINDS[kind][4]):
        torch.testing.assert_close(tensor.grad[0], torch.tensor(expected[name]), **GRADIENT_TOLERANCE)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_detaching_every_k_steps_is_full_bptt_within_each_window(kind):
    """The torch recipe (windows of k steps, state carried and detached between them) gives
    each window the reference's full BPTT from the window's carried-in state."""
    k = 3
    layer, forward, params, x, state, d_outputs = _setup(kind, "auto")
    expected = {name: np.zeros_like(value) for name, value in params.items()}
    carried = state
    for start in range(0, T, k):
        window = slice(start, start + k)
        _, carried_next, cache = forward(params, x[window], carried)
        grads = KINDS[kind][2](cache, d_outputs[window])
        for name in expected:
            expected[name] += grads[name]
        carried = _as_tuple(carried_next)

    hidden = _torch_state(state, requires_grad=False)
    for start in range(0, T, k):
        window = slice(start, start + k)
        out, hidden = layer(torch.tensor(x[window]), hidden)
        out.backward(torch.tensor(d_outputs[window]))
        hidden = tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()
    for name, param in layer.named_parameters():
        torch.testing.assert_close(param.grad, torch.tensor(expected[name.removesuffix("_l0")]), **GRADIENT_TOLERANCE)


@pytest.mark.parametrize("kind", KINDS)
def test_truncated_bptt_differs_from_full_when_k_is_short(kind):
    """A guard on the test above: with k = 1 the truncation must actually drop something."""
    _, forward, params, x, state, d_outputs = _setup(kind, "auto")
    _, _, cache = forward(params, x, state)
    full, truncated = KINDS[kind][2](cache, d_outputs), KINDS[kind][3](cache, d_outputs, 1)
    assert not np.allclose(full["weight_hh"], truncated["weight_hh"])
