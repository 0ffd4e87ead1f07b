"""Bad input gets an error that names the problem and the expected value."""

import pytest
import torch

import seqlab.nn as snn
from seqlab.errors import SeqlabError


@pytest.mark.parametrize("layer_cls", [snn.RNN, snn.GRU, snn.LSTM])
@pytest.mark.parametrize("implementation", ["auto", "per_step"])
def test_wrong_input_rank_is_named(layer_cls, implementation):
    layer = layer_cls(3, 4, implementation=implementation)
    with pytest.raises(SeqlabError, match=r"expected a 2-D \(unbatched\) or 3-D input, got 4-D"):
        layer(torch.randn(2, 2, 2, 3))


@pytest.mark.parametrize("layer_cls", [snn.RNN, snn.GRU, snn.LSTM])
def test_wrong_feature_size_is_named(layer_cls):
    with pytest.raises(SeqlabError, match="input has 5 features, expected input_size=3"):
        layer_cls(3, 4)(torch.randn(6, 2, 5))


def test_mismatched_hidden_state_names_the_tensor_and_both_shapes():
    lstm = snn.LSTM(3, 4, num_layers=2)
    h0, c0 = torch.zeros(2, 2, 4), torch.zeros(2, 3, 4)
    with pytest.raises(SeqlabError, match=r"c0 has shape \(2, 3, 4\), expected .* = \(2, 2, 4\)"):
        lstm(torch.randn(6, 2, 3), (h0, c0))


def test_lstm_given_a_single_tensor_as_state_says_it_needs_two():
    with pytest.raises(SeqlabError, match="must be h0 and c0, got 1 item"):
        snn.LSTM(3, 4)(torch.randn(6, 2, 3), torch.zeros(1, 2, 4))


def test_dtype_mismatch_is_named():
    with pytest.raises(SeqlabError, match="input dtype torch.float64 does not match the weights' dtype torch.float32"):
        snn.GRU(3, 4)(torch.randn(6, 2, 3, dtype=torch.float64))


def test_cell_hidden_state_of_wrong_shape_is_named():
    with pytest.raises(SeqlabError, match=r"hidden state has shape \(2, 5\), expected \(2, 4\)"):
        snn.GRUCell(3, 4)(torch.randn(2, 3), torch.zeros(2, 5))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(hidden_size=0), "hidden_size must be a positive int, got 0"),
        (dict(num_layers=-1), "num_layers must be a positive int, got -1"),
        (dict(dropout=1.5), r"dropout must be a probability in \[0, 1\], got 1.5"),
        (dict(proj_size=4), r"proj_size must be an int in \[0, hidden_size=4\), got 4"),
        (dict(implementation="cudnn"), "implementation must be one of"),
    ],
)
def test_bad_constructor_arguments_are_named(kwargs, message):
    config = dict(input_size=3, hidden_size=4) | kwargs
    with pytest.raises(ValueError, match=message):
        snn.LSTM(**config)


def test_dropout_on_a_single_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="does nothing with num_layers=1"):
        snn.LSTM(3, 4, dropout=0.5)
