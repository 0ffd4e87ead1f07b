"""The per-step path under ``torch.autocast``: values close to float32, gradients in the
parameters' dtype, and the tape's products in autocast's dtype.

bfloat16 keeps 8 significant bits (rounding error up to 2^-9 relative), so results are
compared per tensor in norm, ``‖actual - expected‖ ≤ r ‖expected‖``:

* ``r = 0.02`` for the plain, projected, peephole and zoneout cells (measured at most 0.0075
  on this configuration, over seeds);
* ``r = 0.08`` with layer norm (measured at most 0.05). Layer norm makes the layer
  invariant to the scale of ``W_ih x`` and ``W_hh h``, so the gradients of ``x``,
  ``W_ih`` and ``W_hh`` are what is left after a large radial part cancels; merely rounding
  the parameters and input to bfloat16, computing in float32, moves them by 2-8%.
"""

import pytest
import torch

import seqlab.nn as snn

VARIANTS = {
    "lstm": (snn.LSTM, {}),
    "gru": (snn.GRU, {}),
    "rnn": (snn.RNN, {}),
    "lstm_proj": (snn.LSTM, {"proj_size": 16}),
    "peephole_lstm": (snn.LSTM, {"peephole": True}),
    "zoneout_lstm": (snn.LSTM, {"zoneout_hidden": 0.2, "zoneout_cell": 0.3}),
    "zoneout_gru": (snn.GRU, {"zoneout_hidden": 0.2}),
    "ln_lstm": (snn.LSTM, {"layer_norm": True}),
    "ln_peephole_lstm": (snn.LSTM, {"layer_norm": True, "peephole": True}),
    "ln_gru": (snn.GRU, {"layer_norm": True}),
    "ln_rnn": (snn.RNN, {"layer_norm": True}),
}
TORCH_LAYERS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
BFLOAT16 = 0.02
BFLOAT16_LAYER_NORM = 0.08
INPUT, HIDDEN, STEPS, BATCH = 8, 32, 5, 4


def _layer(name, device="cpu", **options):
    """A seeded, bidirectional per-step layer in evaluation mode (zoneout is its expectation)."""
    layer_cls, extras = VARIANTS[name]
    torch.manual_seed(0)
    layer = layer_cls(INPUT, HIDDEN, bidirectional=True, implementation="per_step", **extras, **options)
    return layer.to(device).eval()


def _run(layer, x, dtype=None):
    """Output and the gradients of x and every parameter, the forward under autocast to ``dtype``."""
    x = x.clone().requires_grad_()
    with torch.autocast(x.device.type, dtype=dtype, enabled=dtype is not None):
        output, _ = layer(x)
        loss = output.float().sin().sum()
    return [output, *torch.autograd.grad(loss, [x, *layer.parameters()])]


def _assert_close_in_norm(actual, expected, tolerance):
    for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
        error = (a.float() - e.float()).norm() / e.float().norm()
        assert error <= tolerance, f"tensor {index} (0 = output, 1 = input gradient): relative error {error:.4f}"


@pytest.mark.parametrize("name", VARIANTS)
def test_per_step_layers_under_bfloat16_autocast_are_close_to_float32(name):
    layer = _layer(name)
    x = torch.randn(STEPS, BATCH, INPUT)
    reference = _run(layer, x)
    autocast = _run(layer, x, torch.bfloat16)
    assert not torch.equal(autocast[0].float(), reference[0])  # the products did run in bfloat16
    for param, grad in zip(layer.parameters(), autocast[2:], strict=True):
        assert grad.dtype == param.dtype == torch.float32
    _assert_close_in_norm(autocast, reference, BFLOAT16_LAYER_NORM if name.startswith("ln_") else BFLOAT16)


@pytest.mark.parametrize("name", ["gru", "rnn"])
def test_per_step_layers_under_bfloat16_autocast_are_close_to_torch_under_the_same_autocast(name):
    """torch.nn's CPU GRU and RNN run under autocast everywhere. (Its LSTM goes to oneDNN,
    whose bfloat16 LSTM needs CPU support that not every machine has.)"""
    ours = _layer(name)
    theirs = TORCH_LAYERS[name](INPUT, HIDDEN, bidirectional=True)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(STEPS, BATCH, INPUT)
    _assert_close_in_norm(_run(ours, x, torch.bfloat16), _run(theirs, x, torch.bfloat16), BFLOAT16)


@pytest.mark.parametrize("implementation", ["auto", "per_step"])
def test_a_bfloat16_input_under_cpu_autocast_is_accepted(implementation):
    """E.g. the output of a bfloat16 layer before it: torch.nn takes it under autocast, so must we
    (the dtype check asked whether CUDA autocast was on, even for a CPU input)."""
    layer = snn.GRU(INPUT, HIDDEN, implementation=implementation)
    x = torch.randn(STEPS, BATCH, INPUT).to(torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output, _ = layer(x)
    _assert_close_in_norm([output], [layer(x.float())[0]], BFLOAT16)


def test_a_backward_called_inside_an_autocast_region_keeps_the_tapes_float32_products():
    """The forward ran in float32, outside autocast; the backward call sits inside a bfloat16
    region. The tape's products (``grad @ W_hh`` per step, ``dW_hh`` at the end) must stay in
    the forward's float32, as ``torch.amp.custom_bwd`` guarantees, so that ``dW_hh`` of a
    tanh RNN, which only they and pointwise ops compute, equals the plain float32 one exactly."""
    layer = _layer("rnn")
    x = torch.randn(STEPS, BATCH, INPUT)
    output, _ = layer(x)
    (expected,) = torch.autograd.grad(output.sin().sum(), layer.weight_hh_l0)
    output, _ = layer(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        (actual,) = torch.autograd.grad(output.sin().sum(), layer.weight_hh_l0)
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", ["lstm", "gru", "rnn"])
def test_per_step_layers_under_cuda_autocast_are_close_to_float32_and_to_cudnn(name, dtype):
    """fp16 keeps 11 significant bits and bf16 8, so the bf16 tolerances hold for both."""
    ours = _layer(name, device="cuda")
    theirs = TORCH_LAYERS[name](INPUT, HIDDEN, bidirectional=True).cuda()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(STEPS, BATCH, INPUT, device="cuda")
    autocast = _run(ours, x, dtype)
    for param, grad in zip(ours.parameters(), autocast[2:], strict=True):
        assert grad.dtype == param.dtype == torch.float32
    _assert_close_in_norm(autocast, _run(ours, x), BFLOAT16)
    _assert_close_in_norm(autocast, _run(theirs, x, dtype), BFLOAT16)
