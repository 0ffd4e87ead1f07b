"""Shared builders for the seqlab.nn tests: twin layers (ours and torch's) and inputs."""

import pytest
import torch

import seqlab.nn as snn

# (our class, torch class, constructor extras)
LAYER_KINDS = {
    "rnn_tanh": (snn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (snn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "gru": (snn.GRU, torch.nn.GRU, {}),
    "lstm": (snn.LSTM, torch.nn.LSTM, {}),
}


def twin_layers(kind, *, implementation="auto", seed=0, **config):
    """A torch.nn layer and a seqlab layer holding the same float64 weights."""
    ours_cls, theirs_cls, extras = LAYER_KINDS[kind]
    torch.manual_seed(seed)
    theirs = theirs_cls(**extras, **config, dtype=torch.float64)
    ours = ours_cls(**extras, **config, dtype=torch.float64, implementation=implementation)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(1234)
