"""The reference against torch.nn in float64: weights copied from torch's RNN, GRU and LSTM
(one layer) and from their cells; values and every gradient compared with autograd."""

import numpy as np
import pytest
import torch

from seqlab.errors import SeqlabError
from seqlab.reference import PARAM_NAMES, init_params, params_from_state_dict

from .cases import CELL_CASES, make_problem

VALUE_TOLERANCE = 1e-10  # outputs and states, absolute
GRAD_TOLERANCE = 1e-9  # autograd against hand-written BPTT, absolute

TORCH_LAYERS = {
    "rnn_tanh": lambda I, H: torch.nn.RNN(I, H, nonlinearity="tanh"),
    "rnn_relu": lambda I, H: torch.nn.RNN(I, H, nonlinearity="relu"),
    "gru": lambda I, H: torch.nn.GRU(I, H),
    "lstm": lambda I, H: torch.nn.LSTM(I, H),
}
TORCH_CELLS = {
    "rnn_tanh": lambda I, H: torch.nn.RNNCell(I, H, nonlinearity="tanh"),
    "rnn_relu": lambda I, H: torch.nn.RNNCell(I, H, nonlinearity="relu"),
    "gru": lambda I, H: torch.nn.GRUCell(I, H),
    "lstm": lambda I, H: torch.nn.LSTMCell(I, H),
}
SIZES = dict(steps=6, batch=3, input_size=4, hidden_size=5)


def _leaf(array):
    return torch.tensor(array, dtype=torch.float64, requires_grad=True)


def _copy_weights_into(problem, module, layer):
    """Replace the problem's parameters, in place, by the torch module's."""
    for name, value in params_from_state_dict(module.state_dict(), layer=layer).items():
        problem.params[name][...] = value


def _torch_loss(problem, outputs, final_state):
    final = sum((torch.from_numpy(d) * s).sum() for d, s in zip(problem.d_final, final_state))
    return (torch.from_numpy(problem.d_outputs) * outputs).sum() + final


def _assert_close(actual, expected, atol, name):
    np.testing.assert_allclose(actual, expected, rtol=0, atol=atol, err_msg=name)


@pytest.mark.parametrize("case", CELL_CASES, ids=lambda case: case.name)
def test_sequence_matches_torch_layer(case):
    torch.manual_seed(0)
    layer = TORCH_LAYERS[case.name](SIZES["input_size"], SIZES["hidden_size"]).double()
    problem = make_problem(case, seed=0, **SIZES)
    _copy_weights_into(problem, layer, 0)

    inputs = _leaf(problem.inputs)
    state0 = [_leaf(s[None]) for s in problem.state0]  # torch wants (layers, B, H)
    outputs, state_n = layer(inputs, state0[0] if len(state0) == 1 else tuple(state0))
    state_n = (state_n,) if len(state0) == 1 else state_n
    _torch_loss(problem, outputs, state_n).backward()
    ours, our_state_n, cache = case.forward(problem.params, problem.inputs, problem.state0)
    grads = case.backward(cache, problem.d_outputs, problem.d_final)

    _assert_close(ours, outputs.detach().numpy(), VALUE_TOLERANCE, "outputs")
    for ours_n, theirs_n in zip(our_state_n, state_n):
        _assert_close(ours_n, theirs_n.detach().numpy()[0], VALUE_TOLERANCE, "final state")
    for name in PARAM_NAMES:
        _assert_close(grads[name], getattr(layer, name + "_l0").grad.numpy(), GRAD_TOLERANCE, name)
    _assert_close(grads["inputs"], inputs.grad.numpy(), GRAD_TOLERANCE, "inputs")
    for name, leaf in zip(case.state_names, state0):
        _assert_close(grads[name], leaf.grad.numpy()[0], GRAD_TOLERANCE, name)


@pytest.mark.parametrize("case", CELL_CASES, ids=lambda case: case.name)
def test_one_step_matches_torch_cell(case):
    torch.manual_seed(1)
    cell = TORCH_CELLS[case.name](SIZES["input_size"], SIZES["hidden_size"]).double()
    problem = make_problem(case, seed=1, **{**SIZES, "steps": 1})
    _copy_weights_into(problem, cell, None)

    x = _leaf(problem.inputs[0])
    state0 = [_leaf(s) for s in problem.state0]
    state_1 = cell(x, state0[0] if len(state0) == 1 else tuple(state0))
    state_1 = (state_1,) if len(state0) == 1 else state_1
    # Over one step the output is the final state, so the loss reads only the state.
    problem.d_outputs[...] = 0.0
    sum((torch.from_numpy(d) * s).sum() for d, s in zip(problem.d_final, state_1)).backward()
    _, our_state_1, cache = case.forward(problem.params, problem.inputs, problem.state0)
    grads = case.backward(cache, problem.d_outputs, problem.d_final)

    for ours, theirs in zip(our_state_1, state_1):
        _assert_close(ours, theirs.detach().numpy(), VALUE_TOLERANCE, "state")
    for name in PARAM_NAMES:
        _assert_close(grads[name], getattr(cell, name).grad.numpy(), GRAD_TOLERANCE, name)
    _assert_close(grads["inputs"][0], x.grad.numpy(), GRAD_TOLERANCE, "inputs")
    for name, leaf in zip(case.state_names, state0):
        _assert_close(grads[name], leaf.grad.numpy(), GRAD_TOLERANCE, name)


@pytest.mark.parametrize("case", CELL_CASES, ids=lambda case: case.name)
def test_parameters_have_torch_shapes_and_init_range(case):
    input_size, hidden_size = 7, 16
    layer = TORCH_LAYERS[case.name](input_size, hidden_size)
    params = init_params(case.kind, input_size, hidden_size, np.random.default_rng(0))

    bound = 1 / np.sqrt(hidden_size)
    for name in PARAM_NAMES:
        assert params[name].shape == tuple(getattr(layer, name + "_l0").shape), name
        assert params[name].dtype == np.float64
        assert np.all(np.abs(params[name]) <= bound), name


def test_params_from_state_dict_copies_and_names_what_is_missing():
    layer = torch.nn.GRU(3, 4, num_layers=2)

    second = params_from_state_dict(layer.state_dict(), layer=1)

    np.testing.assert_array_equal(second["weight_ih"], layer.weight_ih_l1.detach().numpy())
    assert second["weight_ih"].dtype == np.float64 and second["weight_ih"].shape == (12, 4)
    with pytest.raises(SeqlabError, match="weight_ih_l2"):
        params_from_state_dict(layer.state_dict(), layer=2)
