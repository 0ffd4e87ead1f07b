"""The per-step path takes the recurrent weight's gradient once per sequence, from a tape.

These tests cover the ways autograd can be driven besides one plain ``backward()``: retained
graphs, partial passes, frozen weights, double backward. The layer-level comparisons with
torch.nn (test_layers_match_torch.py) cover the first derivatives.
"""

import pytest
import torch

import seqlab.nn as snn
from tests.nn.conftest import twin_layers


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_backward_twice_through_a_retained_graph_doubles_the_gradient(kind):
    ours, theirs = twin_layers(kind, implementation="per_step", input_size=3, hidden_size=4, bidirectional=True)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    for layer in (ours, theirs):
        output = layer(x)[0].sin().sum()
        output.backward(retain_graph=True)
        output.backward()
    for (name, a), b in zip(ours.named_parameters(), theirs.parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-12, msg=name)


def test_gradient_with_respect_to_the_input_alone_leaves_the_weights_untouched():
    ours, theirs = twin_layers("lstm", implementation="per_step", input_size=3, hidden_size=4, num_layers=2)
    x = torch.randn(5, 2, 3, dtype=torch.float64, requires_grad=True)
    (ours_grad,) = torch.autograd.grad(ours(x)[0].sum(), x)
    (theirs_grad,) = torch.autograd.grad(theirs(x)[0].sum(), x)
    torch.testing.assert_close(ours_grad, theirs_grad, rtol=0, atol=1e-12)
    assert all(p.grad is None for p in ours.parameters())


def test_frozen_recurrent_weights_and_no_grad_mode_skip_the_tape():
    ours, theirs = twin_layers("gru", implementation="per_step", input_size=3, hidden_size=4)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x)[0], theirs(x)[0], rtol=0, atol=1e-12)
    ours.weight_hh_l0.requires_grad_(False)
    ours(x)[0].sum().backward()
    assert ours.weight_hh_l0.grad is None and ours.weight_ih_l0.grad is not None


@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("first", ["input", "bias_hh_l0"])
def test_a_pass_that_skips_the_recurrent_weight_leaves_nothing_on_the_tape(kind, first):
    """On a retained graph, a pass for one tensor's gradient alone, then a full backward.

    The first pass runs every step but never needs ``dW_hh``; the full pass must still count
    each step's contribution once (it used to count the first pass's again).
    """
    ours, theirs = twin_layers(kind, implementation="per_step", input_size=3, hidden_size=4, bidirectional=True)
    x = torch.randn(5, 2, 3, dtype=torch.float64, requires_grad=True)
    for layer in (ours, theirs):
        loss = layer(x)[0].sin().sum()
        only = x if first == "input" else getattr(layer, first)
        torch.autograd.grad(loss, only, retain_graph=True)
        loss.backward()
    for (name, a), b in zip(ours.named_parameters(), theirs.parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-12, msg=name)


def _gradient_penalty_gradients(layer, x, penalised):
    """Gradients of ``loss + |d loss / d penalised|²`` w.r.t. every parameter: double backward."""
    loss = layer(x)[0].sin().sum()
    target = x if penalised == "input" else getattr(layer, penalised)
    (gradient,) = torch.autograd.grad(loss, target, create_graph=True)
    return torch.autograd.grad(loss + gradient.pow(2).sum(), list(layer.parameters()))


@pytest.mark.parametrize("kind", ["rnn_tanh", "gru", "lstm"])
@pytest.mark.parametrize("penalised", ["input", "weight_hh_l0", "weight_hh_l1_reverse"])
def test_double_backward_through_the_tape_equals_torch(kind, penalised):
    """A gradient penalty needs second derivatives through every step's ``grad @ W_hh`` and
    through the taped ``dW_hh`` product; float64, against torch.nn to 1e-10."""
    ours, theirs = twin_layers(
        kind, implementation="per_step", input_size=3, hidden_size=4, num_layers=2, bidirectional=True
    )
    x = torch.randn(5, 2, 3, dtype=torch.float64, requires_grad=True)
    expected = _gradient_penalty_gradients(theirs, x, penalised)
    actual = _gradient_penalty_gradients(ours, x, penalised)
    for name, a, e in zip([n for n, _ in ours.named_parameters()], actual, expected, strict=True):
        torch.testing.assert_close(a, e, rtol=0, atol=1e-10, msg=name)


@pytest.mark.parametrize(
    "make",
    [
        lambda: snn.LSTM(2, 2, peephole=True, layer_norm=True, dtype=torch.float64),
        lambda: snn.GRU(2, 2, implementation="per_step", dtype=torch.float64),
        lambda: snn.LSTM(2, 3, proj_size=2, implementation="per_step", dtype=torch.float64),
    ],
    ids=["ln_peephole_lstm", "gru", "lstm_proj"],
)
def test_second_derivatives_equal_central_differences(make):
    """gradgradcheck (eps 1e-6, atol 1e-5) w.r.t. the input and every parameter."""
    layer = make()
    names, params = zip(*layer.named_parameters())
    x = torch.randn(3, 2, 2, dtype=torch.float64, requires_grad=True)

    def run(x, *values):
        return torch.func.functional_call(layer, dict(zip(names, values)), (x,))[0]

    assert torch.autograd.gradgradcheck(run, (x, *params), eps=1e-6, atol=1e-5)


def test_functorch_transforms_are_refused_not_answered_wrongly():
    """The tape lives outside functorch's view of the graph, so torch.func.grad must raise."""
    layer = snn.GRU(3, 4, implementation="per_step", dtype=torch.float64)
    names, params = zip(*layer.named_parameters())
    x = torch.randn(5, 2, 3, dtype=torch.float64)

    def loss(values):
        return torch.func.functional_call(layer, dict(zip(names, values)), (x,))[0].sum()

    with pytest.raises(RuntimeError, match="functorch transforms"):
        torch.func.grad(loss)(params)
