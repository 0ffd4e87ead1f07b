"""Layer-normalised and peephole cells against their equations written out by hand.

The reference functions below restate the papers' equations directly, step by step, with
no code shared with seqlab.nn.rules (Ba et al. 2016, eqs. 20-22; Gers & Schmidhuber 2000).
"""

import pytest
import torch

import seqlab.nn as snn

TOLERANCE = dict(rtol=0, atol=1e-12)
H = 4


def layer_norm(v, gain, bias=None, eps=1e-5):
    mean = v.mean(-1, keepdim=True)
    var = ((v - mean) ** 2).mean(-1, keepdim=True)
    out = gain * (v - mean) / torch.sqrt(var + eps)
    return out if bias is None else out + bias


def lstm_by_equations(p, x, layer_norm_on, peephole_on):
    """p: parameter dict of a 1-layer seqlab LSTM. x: (T, B, I). Returns outputs (T, B, H)."""
    h = x.new_zeros(x.shape[1], H)
    c = x.new_zeros(x.shape[1], H)
    outs = []
    for x_t in x:
        wx, wh = x_t @ p["weight_ih_l0"].T, h @ p["weight_hh_l0"].T
        if layer_norm_on:
            wx, wh = layer_norm(wx, p["ln_gain_ih_l0"]), layer_norm(wh, p["ln_gain_hh_l0"])
        a = wx + wh + p["bias_ih_l0"] + p["bias_hh_l0"]
        a_i, a_f, a_g, a_o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        if peephole_on:
            a_i = a_i + p["weight_ci_l0"] * c
            a_f = a_f + p["weight_cf_l0"] * c
        i, f, g = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g)
        c = f * c + i * g
        if peephole_on:
            a_o = a_o + p["weight_co_l0"] * c
        o = torch.sigmoid(a_o)
        shown = layer_norm(c, p["ln_gain_cell_l0"], p["ln_bias_cell_l0"]) if layer_norm_on else c
        h = o * torch.tanh(shown)
        outs.append(h)
    return torch.stack(outs)


def gru_by_equations(p, x):
    """Layer-normalised GRU: both projections normalised over all 3H units, then biased."""
    h = x.new_zeros(x.shape[1], H)
    outs = []
    for x_t in x:
        wx = layer_norm(x_t @ p["weight_ih_l0"].T, p["ln_gain_ih_l0"]) + p["bias_ih_l0"]
        wh = layer_norm(h @ p["weight_hh_l0"].T, p["ln_gain_hh_l0"]) + p["bias_hh_l0"]
        r = torch.sigmoid(wx[:, :H] + wh[:, :H])
        z = torch.sigmoid(wx[:, H : 2 * H] + wh[:, H : 2 * H])
        n = torch.tanh(wx[:, 2 * H :] + r * wh[:, 2 * H :])
        h = (1 - z) * n + z * h
        outs.append(h)
    return torch.stack(outs)


def rnn_by_equations(p, x):
    h = x.new_zeros(x.shape[1], H)
    outs = []
    for x_t in x:
        wx = layer_norm(x_t @ p["weight_ih_l0"].T, p["ln_gain_ih_l0"])
        wh = layer_norm(h @ p["weight_hh_l0"].T, p["ln_gain_hh_l0"])
        h = torch.tanh(wx + wh + p["bias_ih_l0"] + p["bias_hh_l0"])
        outs.append(h)
    return torch.stack(outs)


def _randomised(layer):
    """Random values in every parameter, gains and biases included (not just their init)."""
    with torch.no_grad():
        for param in layer.parameters():
            param.copy_(torch.randn_like(param) * 0.5)
    return layer


@pytest.mark.parametrize("layer_norm_on,peephole_on", [(True, False), (False, True), (True, True)])
def test_lstm_variants_follow_their_equations(layer_norm_on, peephole_on):
    layer = _randomised(snn.LSTM(3, H, layer_norm=layer_norm_on, peephole=peephole_on, dtype=torch.float64))
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    expected = lstm_by_equations(dict(layer.named_parameters()), x, layer_norm_on, peephole_on)
    torch.testing.assert_close(layer(x)[0], expected, **TOLERANCE)


def test_layer_norm_gru_follows_its_equations():
    layer = _randomised(snn.GRU(3, H, layer_norm=True, dtype=torch.float64))
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    torch.testing.assert_close(layer(x)[0], gru_by_equations(dict(layer.named_parameters()), x), **TOLERANCE)


def test_layer_norm_rnn_follows_its_equations():
    layer = _randomised(snn.RNN(3, H, layer_norm=True, dtype=torch.float64))
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    torch.testing.assert_close(layer(x)[0], rnn_by_equations(dict(layer.named_parameters()), x), **TOLERANCE)


def test_variant_parameters_are_named_per_layer_and_direction_after_torchs():
    layer = snn.LSTM(3, H, num_layers=2, bidirectional=True, layer_norm=True, peephole=True)
    names = list(dict(layer.named_parameters()))
    torch_names = list(dict(torch.nn.LSTM(3, H, num_layers=2, bidirectional=True).named_parameters()))
    assert names[: len(torch_names)] == torch_names
    assert {"weight_ci_l1_reverse", "ln_gain_hh_l0", "ln_gain_cell_l1", "ln_bias_cell_l0_reverse"} <= set(names)
    assert torch.equal(layer.ln_gain_ih_l0, torch.ones(4 * H)) and torch.equal(layer.ln_bias_cell_l0, torch.zeros(H))


LAYERS_FOR_GRADCHECK = {
    "rnn_relu": lambda **kw: snn.RNN(3, 2, nonlinearity="relu", **kw),
    "gru": lambda **kw: snn.GRU(3, 2, **kw),
    "lstm": lambda **kw: snn.LSTM(3, 2, **kw),
    "lstm_proj": lambda **kw: snn.LSTM(3, 3, proj_size=2, **kw),
    "ln_gru": lambda **kw: snn.GRU(3, 2, layer_norm=True, **kw),
    "ln_peephole_lstm": lambda **kw: snn.LSTM(3, 2, layer_norm=True, peephole=True, **kw),
}


GRADCHECK_CASES = [(name, "per_step") for name in LAYERS_FOR_GRADCHECK] + [
    (name, "auto")
    for name in LAYERS_FOR_GRADCHECK
    if not name.startswith("ln_")  # variants have no fused path
]


@pytest.mark.parametrize("name,implementation", GRADCHECK_CASES)
def test_gradcheck_in_float64(name, implementation):
    """Analytic gradients (inputs and every parameter) equal central differences."""
    layer = LAYERS_FOR_GRADCHECK[name](
        num_layers=2, bidirectional=True, dtype=torch.float64, implementation=implementation
    )
    params = list(layer.parameters())
    names = [n for n, _ in layer.named_parameters()]
    x = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)

    def run(x, *values):
        output, _ = torch.func.functional_call(layer, dict(zip(names, values)), (x,))
        return output

    assert torch.autograd.gradcheck(run, (x, *params), eps=1e-6, atol=1e-7)
