"""Initialisation schemes and gradient clipping (mission part C4)."""

import math

import pytest
import torch

import seqlab.nn as snn
from seqlab.errors import SeqlabError
from seqlab.nn import init


@pytest.mark.parametrize(
    "module", [snn.LSTM(5, 6, num_layers=2, bidirectional=True), torch.nn.GRU(5, 6), snn.LSTMCell(5, 6)]
)
def test_orthogonal_recurrent_makes_every_gate_block_orthogonal(module):
    init.orthogonal_recurrent_(module)
    weights = [p for n, p in module.named_parameters() if n.startswith("weight_hh")]
    assert weights
    for weight in weights:
        for block in weight.detach().split(6):
            torch.testing.assert_close(block.T @ block, torch.eye(6), rtol=0, atol=1e-5)


def test_forget_gate_bias_sets_only_the_forget_block_of_the_summed_bias():
    lstm = snn.LSTM(5, 6, num_layers=2)
    before = lstm.bias_ih_l1.detach().clone()
    init.forget_gate_bias_(lstm, 1.0)
    for layer in (0, 1):
        total = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
        assert torch.equal(total[6:12], torch.ones(6))
    assert torch.equal(lstm.bias_ih_l1[:6], before[:6]) and torch.equal(lstm.bias_ih_l1[12:], before[12:])


def test_forget_gate_bias_refuses_a_module_without_lstm_biases():
    with pytest.raises(SeqlabError, match="needs an LSTM with biases, got GRU"):
        init.forget_gate_bias_(snn.GRU(5, 6))


def test_uniform_defaults_to_plus_minus_one_over_root_hidden():
    lstm = snn.LSTM(5, 16)
    init.uniform_(lstm)
    largest = max(p.abs().max().item() for p in lstm.parameters())
    assert 0.9 / math.sqrt(16) < largest <= 1 / math.sqrt(16)


@pytest.mark.parametrize("module_cls", [snn.LSTM, snn.LSTMCell])
def test_uniform_redraws_weights_and_biases_but_leaves_layer_norm_gains_and_biases(module_cls):
    """All cell weights (peepholes included) redrawn within ±bound; gains stay 1, biases 0."""
    module = module_cls(5, 64, layer_norm=True, peephole=True)
    with torch.no_grad():  # make every redrawn value distinguishable from the previous draw
        for name, param in module.named_parameters():
            if not name.startswith("ln_"):
                param.fill_(7.0)
    init.uniform_(module, 0.05)
    drawn = {name: p for name, p in module.named_parameters() if not name.startswith("ln_")}
    cell_weights = {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_ci", "weight_cf", "weight_co"}
    assert {name.removesuffix("_l0") for name in drawn} == cell_weights
    for name, param in drawn.items():
        assert 0.04 < param.abs().max() <= 0.05, name  # 64+ values: the largest is near the bound
    for name, param in module.named_parameters():
        if name.startswith("ln_gain"):
            assert torch.equal(param, torch.ones_like(param)), name
        elif name.startswith("ln_bias"):
            assert torch.equal(param, torch.zeros_like(param)), name


def test_uniform_draws_the_projection_too():
    lstm = snn.LSTM(5, 6, proj_size=3)
    with torch.no_grad():
        lstm.weight_hr_l0.fill_(7.0)
    init.uniform_(lstm, 0.1)
    assert lstm.weight_hr_l0.abs().max() <= 0.1


def test_xavier_input_bounds_each_block_by_glorot():
    lstm = snn.LSTM(5, 6)
    init.xavier_input_(lstm)
    assert lstm.weight_ih_l0.abs().max() <= math.sqrt(6 / (5 + 6))


def _parameters_with_gradients(seed):
    torch.manual_seed(seed)
    params = [
        torch.nn.Parameter(torch.randn(4, 3)),
        torch.nn.Parameter(torch.randn(7)),
        torch.nn.Parameter(torch.randn(2)),
    ]
    for p in params[:2]:
        p.grad = torch.randn_like(p) * 10
    return params  # the last one has no gradient and must be skipped


@pytest.mark.parametrize("max_norm,norm_type", [(1.0, 2.0), (100.0, 2.0), (0.5, 1.0), (2.0, float("inf"))])
def test_clip_grad_norm_equals_torch(max_norm, norm_type):
    ours, theirs = _parameters_with_gradients(0), _parameters_with_gradients(0)
    total = snn.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    torch.testing.assert_close(total, expected)
    for a, b in zip(ours[:2], theirs[:2]):
        torch.testing.assert_close(a.grad, b.grad)


def test_clip_grad_norm_leaves_the_joint_norm_at_max_norm():
    params = _parameters_with_gradients(1)
    snn.clip_grad_norm_(params, 1.0)
    joint = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in params[:2]]))
    assert joint == pytest.approx(1.0, abs=1e-5)


def test_clip_grad_norm_reports_a_diverged_gradient_when_asked():
    params = _parameters_with_gradients(2)
    params[0].grad[0, 0] = float("nan")
    with pytest.raises(SeqlabError, match="diverged"):
        snn.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_equals_torch():
    ours, theirs = _parameters_with_gradients(3), _parameters_with_gradients(3)
    snn.clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for a, b in zip(ours[:2], theirs[:2]):
        assert torch.equal(a.grad, b.grad)
