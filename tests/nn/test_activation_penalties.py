"""AR and TAR penalties of AWD-LSTM (Merity et al. 2017), mission part R6."""

import pytest
import torch

import seqlab.nn as snn
from seqlab.errors import SeqlabError


def test_activation_penalty_is_alpha_times_the_mean_square():
    output = torch.tensor([[[1.0, -2.0]], [[3.0, 0.0]]])  # (T=2, B=1, H=2)
    assert snn.activation_penalty(output, 2.0).item() == pytest.approx(2.0 * (1 + 4 + 9 + 0) / 4)


def test_temporal_penalty_is_beta_times_the_mean_square_step():
    output = torch.tensor([[[0.0, 1.0]], [[2.0, 1.0]], [[2.0, 4.0]]])  # steps: (2, 0), (0, 3)
    assert snn.temporal_activation_penalty(output, 0.5).item() == pytest.approx(0.5 * (4 + 0 + 0 + 9) / 4)
    batch_first = output.transpose(0, 1)
    assert snn.temporal_activation_penalty(batch_first, 0.5, batch_first=True).item() == pytest.approx(1.625)


def test_a_state_that_does_not_change_costs_nothing_under_tar():
    constant = torch.randn(1, 3, 5).expand(7, 3, 5)
    assert snn.temporal_activation_penalty(constant, 1.0).item() == 0.0
    assert snn.temporal_activation_penalty(torch.randn(1, 3, 5), 1.0).item() == 0.0  # one step: no pairs


def test_penalties_have_correct_gradients():
    output = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda o: snn.activation_penalty(o, 2.0), (output,))
    assert torch.autograd.gradcheck(lambda o: snn.temporal_activation_penalty(o, 1.0), (output,))


def test_a_penalty_given_the_wrong_rank_says_what_it_expected():
    with pytest.raises(SeqlabError, match=r"expected the \(time, batch, units\) output .* got 2-D"):
        snn.activation_penalty(torch.randn(4, 3), 2.0)
