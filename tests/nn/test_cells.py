"""seqlab.nn cells are drop-in for torch.nn cells and are one step of their layer."""

import pytest
import torch

import seqlab.nn as snn

CELL_KINDS = {
    "rnn_tanh": (snn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn_relu": (snn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    "gru": (snn.GRUCell, torch.nn.GRUCell, {}),
    "lstm": (snn.LSTMCell, torch.nn.LSTMCell, {}),
}
TOLERANCE = dict(rtol=0, atol=1e-12)


def _twin_cells(kind, implementation, bias):
    ours_cls, theirs_cls, extras = CELL_KINDS[kind]
    theirs = theirs_cls(3, 4, bias=bias, dtype=torch.float64, **extras)
    ours = ours_cls(3, 4, bias=bias, dtype=torch.float64, implementation=implementation, **extras)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _as_list(result):
    return list(result) if isinstance(result, tuple) else [result]


@pytest.mark.parametrize("kind", CELL_KINDS)
@pytest.mark.parametrize("implementation", ["auto", "per_step"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("given_state", [True, False])
def test_cell_outputs_and_gradients_equal_torch(kind, implementation, bias, batched, given_state):
    ours, theirs = _twin_cells(kind, implementation, bias)
    shape = (2,) if batched else ()
    x = torch.randn(*shape, 3, dtype=torch.float64, requires_grad=True)
    hx = None
    if given_state:
        hx = tuple(
            torch.randn(*shape, 4, dtype=torch.float64, requires_grad=True) for _ in range(2 if kind == "lstm" else 1)
        )
        hx = hx if kind == "lstm" else hx[0]
    results = []
    for cell in (ours, theirs):
        out = _as_list(cell(x, hx))
        leaves = [x] + ([] if hx is None else _as_list(hx)) + list(cell.parameters())
        grads = torch.autograd.grad(sum(o.sin().sum() for o in out), leaves)
        results.append(out + list(grads))
    for a, e in zip(*results, strict=True):
        torch.testing.assert_close(a, e, **TOLERANCE)


@pytest.mark.parametrize(
    "kind,layer_norm,peephole",
    [
        ("rnn_tanh", True, False),
        ("gru", True, False),
        ("lstm", True, False),
        ("lstm", False, True),
        ("lstm", True, True),
    ],
)
def test_a_variant_cell_is_one_step_of_the_variant_layer(kind, layer_norm, peephole):
    cell_cls, _, extras = CELL_KINDS[kind]
    layer_cls = {"rnn_tanh": snn.RNN, "gru": snn.GRU, "lstm": snn.LSTM}[kind]
    options = dict(layer_norm=layer_norm, **({"peephole": peephole} if kind == "lstm" else {}))
    cell = cell_cls(3, 4, dtype=torch.float64, **extras, **options)
    layer = layer_cls(3, 4, dtype=torch.float64, **extras, **options)
    with torch.no_grad():
        for name, param in cell.named_parameters():
            param.copy_(torch.randn_like(param))
            getattr(layer, name + "_l0").copy_(param)
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    output, _ = layer(x)
    state = None
    for t in range(6):
        state = cell(x[t], state)
        h = state[0] if kind == "lstm" else state
        torch.testing.assert_close(h, output[t], **TOLERANCE)
