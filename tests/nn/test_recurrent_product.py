"""The per-step path takes the recurrent weight's gradient once per sequence, from a tape.

These tests cover the ways autograd can be driven besides one plain ``backward()``: the
layer-level comparisons with torch.nn (test_layers_match_torch.py) cover the values.
"""

import pytest
import torch

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
