"""``implementation="auto"``: the fused kernel, except for CPU training passes where the measured
table says the per-step path is faster by the margin; what it runs gives torch.nn's results."""

from __future__ import annotations

import doctest

import pytest
import torch

import seqlab.nn as snn
from seqlab.nn import implementation_choice, recurrent
from seqlab.nn.implementation_choice import MARGIN, MEASURED_STEPS, PER_STEP_SPEEDUPS, per_step_is_faster


@pytest.mark.parametrize("key", PER_STEP_SPEEDUPS, ids=str)
def test_at_a_measured_configuration_the_measured_speedup_decides(key):
    mode, hidden, batch, layers = key
    assert per_step_is_faster(mode, hidden, batch, layers, MEASURED_STEPS) == (PER_STEP_SPEEDUPS[key] >= MARGIN)


@pytest.mark.parametrize(
    "call, nearest",
    [
        (("GRU", 512, 128, 1, 35), ("GRU", 650, 64, 1)),  # a translation decoder's size: fused (1.06)
        (("GRU", 1024, 16, 3, 70), ("GRU", 1150, 20, 2)),  # deeper and longer than measured: as 2 layers
        (("RNN_TANH", 180, 24, 1, 35), ("RNN", 200, 20, 1)),  # both RNN non-linearities read the RNN rows
        (("RNN_RELU", 700, 60, 2, 50), ("RNN", 650, 64, 2)),
    ],
)
def test_elsewhere_the_nearest_measured_configuration_decides(call, nearest):
    assert per_step_is_faster(*call) == (PER_STEP_SPEEDUPS[nearest] >= MARGIN)


def test_lstms_and_sequences_shorter_than_measured_stay_fused():
    assert not per_step_is_faster("LSTM", 1150, 20, 1, 35)  # oneDNN's LSTM kernel: never measured slower
    assert per_step_is_faster("GRU", 1150, 20, 1, MEASURED_STEPS)
    assert not per_step_is_faster("GRU", 1150, 20, 1, MEASURED_STEPS - 1)


def _paths_run(monkeypatch, layer, x, *, grad: bool):
    """Which of run_fused / run_stack a forward pass of ``layer`` on ``x`` runs, the table always saying per-step."""
    ran = []
    monkeypatch.setattr(implementation_choice, "per_step_is_faster", lambda *args: True)
    for name in ("run_fused", "run_stack"):
        original = getattr(recurrent, name)
        monkeypatch.setattr(recurrent, name, lambda *a, _f=original, _n=name, **k: ran.append(_n) or _f(*a, **k))
    with torch.set_grad_enabled(grad):
        layer(x)
    return ran


@pytest.mark.parametrize("layer_cls", [snn.GRU, snn.RNN])
def test_auto_runs_the_tables_choice_only_for_a_cpu_training_pass(monkeypatch, layer_cls):
    x = torch.randn(5, 2, 3)
    assert _paths_run(monkeypatch, layer_cls(3, 4), x, grad=True) == ["run_stack"]
    assert _paths_run(monkeypatch, layer_cls(3, 4), x, grad=False) == ["run_fused"]  # inference
    assert _paths_run(monkeypatch, layer_cls(3, 4, implementation="fused"), x, grad=True) == ["run_fused"]
    frozen = layer_cls(3, 4).requires_grad_(False)
    assert _paths_run(monkeypatch, frozen, x, grad=True) == ["run_fused"]  # nothing to differentiate


def test_the_table_is_asked_about_the_pass_itself(monkeypatch):
    asked = []
    monkeypatch.setattr(implementation_choice, "per_step_is_faster", lambda *args: asked.append(args) or False)
    snn.GRU(3, 4, num_layers=2, batch_first=True)(torch.randn(6, 9, 3))  # B = 6, T = 9
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.randn(7, 3, 3), torch.tensor([7, 5, 2]))
    snn.RNN(3, 5)(packed)  # T = 7, B = 3 (the first step's)
    assert asked == [("GRU", 4, 6, 2, 9), ("RNN_TANH", 5, 3, 1, 7)]


@pytest.mark.parametrize("layer_cls, torch_cls", [(snn.GRU, torch.nn.GRU), (snn.RNN, torch.nn.RNN)])
def test_where_auto_runs_per_step_outputs_and_gradients_are_torch_nns(monkeypatch, layer_cls, torch_cls):
    monkeypatch.setattr(implementation_choice, "per_step_is_faster", lambda *args: True)
    torch.manual_seed(0)
    theirs = torch_cls(3, 4, num_layers=2).double()
    ours = layer_cls(3, 4, num_layers=2).double()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    (ours_out, _), (their_out, _) = ours(x), theirs(x)
    torch.testing.assert_close(ours_out, their_out, rtol=0, atol=1e-12)
    ours_out.sum().backward()
    their_out.sum().backward()
    for (name, mine), theirs_parameter in zip(ours.named_parameters(), theirs.parameters()):
        torch.testing.assert_close(mine.grad, theirs_parameter.grad, rtol=0, atol=1e-12, msg=name)


def test_docstring_examples():
    assert doctest.testmod(implementation_choice).failed == 0
