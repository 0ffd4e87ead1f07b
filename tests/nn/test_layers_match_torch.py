"""seqlab.nn.RNN/GRU/LSTM are drop-in for torch.nn: same outputs, states and gradients.

Every combination runs in float64 on both execution paths. The fused path calls the very
kernels torch.nn calls, so it must match to rounding; the per-step path computes the same
equations in another order, so it matches to 1e-12.
"""

import doctest
import itertools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import seqlab.nn as snn
from seqlab.nn import recurrent_layers
from tests.nn.conftest import LAYER_KINDS, twin_layers

INPUT, HIDDEN, STEPS, BATCH = 3, 4, 5, 3
TOLERANCE = dict(rtol=0, atol=1e-12)


def _initial_state(kind, layer, batch):
    """A random initial state shaped for ``layer`` (a tuple for LSTM)."""
    count = layer.num_layers * (2 if layer.bidirectional else 1)
    h = torch.randn(count, batch, layer.proj_size or layer.hidden_size, dtype=torch.float64)
    if kind != "lstm":
        return h.requires_grad_()
    c = torch.randn(count, batch, layer.hidden_size, dtype=torch.float64)
    return h.requires_grad_(), c.requires_grad_()


def _flatten(result):
    """(output, state) -> list of tensors, unpacking PackedSequence and LSTM's (h, c)."""
    output, state = result
    output = output.data if hasattr(output, "batch_sizes") else output
    return [output, *(state if isinstance(state, tuple) else (state,))]


def _run_and_backprop(layer, inputs, hx):
    tensors = _flatten(layer(inputs, hx))
    loss = sum((t * torch.linspace(-1, 1, t.numel(), dtype=t.dtype).view_as(t)).sum() for t in tensors)
    layer.zero_grad()
    leaves = [inputs if torch.is_tensor(inputs) else inputs.data]
    leaves += [] if hx is None else list(hx if isinstance(hx, tuple) else (hx,))
    grads = torch.autograd.grad(loss, leaves + list(layer.parameters()))
    return tensors, grads


def _make_input(batch_first, packed):
    x = torch.randn(STEPS, BATCH, INPUT, dtype=torch.float64, requires_grad=True)
    if packed:
        lengths = torch.tensor([3, STEPS, 1])  # unsorted on purpose
        return pack_padded_sequence(x, lengths, enforce_sorted=False)
    return x.detach().transpose(0, 1).clone().requires_grad_() if batch_first else x


COMBINATIONS = [
    (kind, impl, layers, bidir, batch_first, packed, given_state)
    for kind, impl, layers, bidir, batch_first, packed, given_state in itertools.product(
        LAYER_KINDS, ("auto", "per_step"), (1, 2, 3), (False, True), (False, True), (False, True), (False, True)
    )
    if not (packed and batch_first)  # a PackedSequence has no batch_first layout
]


@pytest.mark.parametrize("kind,implementation,num_layers,bidirectional,batch_first,packed,given_state", COMBINATIONS)
def test_outputs_states_and_gradients_equal_torch(
    kind, implementation, num_layers, bidirectional, batch_first, packed, given_state
):
    config = dict(
        input_size=INPUT,
        hidden_size=HIDDEN,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
    )
    ours, theirs = twin_layers(kind, implementation=implementation, **config)
    inputs = _make_input(batch_first, packed)
    hx = _initial_state(kind, theirs, BATCH) if given_state else None
    expected, expected_grads = _run_and_backprop(theirs, inputs, hx)
    actual, actual_grads = _run_and_backprop(ours, inputs, hx)
    for a, e in zip(actual, expected, strict=True):
        torch.testing.assert_close(a, e, **TOLERANCE)
    for a, e in zip(actual_grads, expected_grads, strict=True):
        torch.testing.assert_close(a, e, **TOLERANCE)


@pytest.mark.parametrize("implementation", ["auto", "per_step"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("packed", [False, True])
def test_lstm_with_projection_equals_torch(implementation, bidirectional, packed):
    ours, theirs = twin_layers(
        "lstm",
        implementation=implementation,
        input_size=INPUT,
        hidden_size=HIDDEN,
        num_layers=2,
        proj_size=2,
        bidirectional=bidirectional,
    )
    inputs = _make_input(False, packed)
    hx = _initial_state("lstm", theirs, BATCH)
    expected, expected_grads = _run_and_backprop(theirs, inputs, hx)
    actual, actual_grads = _run_and_backprop(ours, inputs, hx)
    for a, e in zip(actual + list(actual_grads), expected + list(expected_grads), strict=True):
        torch.testing.assert_close(a, e, **TOLERANCE)


@pytest.mark.parametrize("kind", LAYER_KINDS)
@pytest.mark.parametrize("implementation", ["auto", "per_step"])
def test_unbatched_input_equals_torch(kind, implementation):
    ours, theirs = twin_layers(
        kind, implementation=implementation, input_size=INPUT, hidden_size=HIDDEN, num_layers=2, bidirectional=True
    )
    x = torch.randn(STEPS, INPUT, dtype=torch.float64)
    hx = _initial_state(kind, theirs, 1)
    hx = tuple(t.detach().squeeze(1) for t in hx) if kind == "lstm" else hx.detach().squeeze(1)
    for a, e in zip(_flatten(ours(x, hx)), _flatten(theirs(x, hx)), strict=True):
        torch.testing.assert_close(a, e, **TOLERANCE)


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_same_seed_draws_the_same_initial_weights_as_torch(kind):
    ours_cls, theirs_cls, extras = LAYER_KINDS[kind]
    config = dict(input_size=5, hidden_size=6, num_layers=2, bidirectional=True, **extras)
    torch.manual_seed(7)
    theirs = theirs_cls(**config)
    torch.manual_seed(7)
    ours = ours_cls(**config)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value), name


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_plain_configurations_use_the_fused_kernel_and_variants_do_not(kind):
    ours_cls, _, extras = LAYER_KINDS[kind]
    assert ours_cls(3, 4, **extras).uses_fused_kernel
    assert not ours_cls(3, 4, **extras, implementation="per_step").uses_fused_kernel
    assert not ours_cls(3, 4, **extras, layer_norm=True).uses_fused_kernel
    with pytest.raises(ValueError, match="cannot run layer_norm"):
        ours_cls(3, 4, **extras, layer_norm=True, implementation="fused")


@pytest.mark.parametrize("implementation", ["auto", "per_step"])
def test_dropout_between_layers_zeroes_the_next_layers_input_and_is_off_in_eval(implementation):
    """With p = 1 the second layer sees only zeros; in eval mode dropout does nothing."""
    torch.manual_seed(0)
    stacked = snn.LSTM(INPUT, HIDDEN, num_layers=2, dropout=1.0, dtype=torch.float64, implementation=implementation)
    second = torch.nn.LSTM(HIDDEN, HIDDEN, dtype=torch.float64)
    second.load_state_dict({k.replace("_l1", "_l0"): v for k, v in stacked.state_dict().items() if "_l1" in k})
    x = torch.randn(STEPS, BATCH, INPUT, dtype=torch.float64)
    output, _ = stacked(x)
    on_zeros, _ = second(torch.zeros(STEPS, BATCH, HIDDEN, dtype=torch.float64))
    torch.testing.assert_close(output, on_zeros, **TOLERANCE)
    stacked.eval()
    reference = torch.nn.LSTM(INPUT, HIDDEN, num_layers=2, dtype=torch.float64)
    reference.load_state_dict(stacked.state_dict())
    torch.testing.assert_close(stacked(x)[0], reference(x)[0], **TOLERANCE)


def test_the_layers_docstring_examples_run_as_written():
    result = doctest.testmod(recurrent_layers, extraglobs={"torch": torch})
    assert result.attempted >= 6 and result.failed == 0
