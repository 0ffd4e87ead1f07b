"""``step_from_input_product``: one step of a layer stack from the first layer's ``W_ih x``, as ``forward`` steps."""

from __future__ import annotations

import pytest
import torch

from seqlab.errors import SeqlabError
from seqlab.nn import GRU, LSTM, RNN

LAYERS = [
    (RNN, {}),
    (GRU, {"num_layers": 2}),
    (LSTM, {"num_layers": 2}),
    (LSTM, {"proj_size": 3}),
    (LSTM, {"peephole": True}),
    (GRU, {"bias": False}),
]


@pytest.mark.parametrize("layer_class, options", LAYERS)
def test_one_step_from_the_input_product_equals_one_step_of_forward(layer_class, options):
    torch.manual_seed(0)
    layer = layer_class(6, 5, **options).double().eval()
    x = torch.randn(4, 6, dtype=torch.float64)
    layers, size = layer.num_layers, layer.proj_size or layer.hidden_size
    shapes = [(layers, 4, size), (layers, 4, layer.hidden_size)] if layer_class is LSTM else [(layers, 4, size)]
    state = tuple(torch.randn(shape, dtype=torch.float64) for shape in shapes)
    expected_output, expected_state = layer(x.unsqueeze(0), state if len(state) == 2 else state[0])
    expected_state = expected_state if isinstance(expected_state, tuple) else (expected_state,)

    output, new_state = layer.step_from_input_product(x @ layer.weight_ih_l0.T, state)

    torch.testing.assert_close(output, expected_output[0], rtol=0, atol=1e-12)
    for part, expected in zip(new_state, expected_state, strict=True):
        torch.testing.assert_close(part, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "options, training", [({"bidirectional": True}, False), ({}, True), ({"layer_norm": True}, False)]
)
def test_layers_whose_step_is_not_linear_in_one_product_are_refused(options, training):
    layer = GRU(6, 5, **options).train(training)
    state = (torch.zeros(1, 2, 5),)
    with pytest.raises(SeqlabError, match="step_from_input_product needs a unidirectional layer"):
        layer.step_from_input_product(torch.zeros(2, 15), state)
