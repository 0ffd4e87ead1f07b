"""Regularisation inside the recurrent step, each tested by its defining property.

Variational state dropout (Gal & Ghahramani 2016), recurrent dropout on the cell update
(Semeniuta et al. 2016) and zoneout (Krueger et al. 2016); mission parts R2-R4. Zoneout is
also tested against the paper's equations written out below (Section 3.2).
"""

import pytest
import torch

import seqlab.nn as snn
from tests.nn.test_variants import H, _randomised, layer_norm

TOLERANCE = {"rtol": 0, "atol": 1e-12}


def _plain_twin(cell):
    """A plain cell of the same kind holding the same weights."""
    plain = type(cell)(cell.input_size, cell.hidden_size, dtype=torch.float64)
    plain.load_state_dict(cell.state_dict())
    return plain


def _as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def _lstm_gates(cell, x, h):
    i, f, g, o = (x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh).chunk(4, 1)
    return torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)


def test_recurrent_dropout_drops_the_update_but_never_erases_the_memory():
    """Each unit of c' is f ⊙ c (update dropped) or f ⊙ c + i ⊙ g / (1 - p) (kept): never zero."""
    torch.manual_seed(0)
    cell = snn.LSTMCell(3, 64, recurrent_dropout=0.5, dtype=torch.float64)
    x, h, c = (
        torch.randn(8, 3, dtype=torch.float64),
        torch.randn(8, 64, dtype=torch.float64),
        torch.randn(8, 64, dtype=torch.float64),
    )
    _, c_new = cell(x, (h, c))
    i, f, g, _ = _lstm_gates(cell, x, h)
    dropped = torch.isclose(c_new, f * c, rtol=0, atol=1e-12)
    kept = torch.isclose(c_new, f * c + i * g * 2, rtol=0, atol=1e-12)
    assert torch.all(dropped | kept)
    assert dropped.any() and kept.any()
    assert torch.all(c_new[dropped] != 0)


@pytest.mark.parametrize("cell_cls", [snn.GRUCell, snn.LSTMCell])
def test_recurrent_dropout_is_off_in_eval(cell_cls):
    cell = cell_cls(3, 5, recurrent_dropout=0.5, dtype=torch.float64).eval()
    x, h = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 5, dtype=torch.float64)
    hx = (h, h) if cell_cls is snn.LSTMCell else h
    plain = _plain_twin(cell)
    for a, b in zip(_as_tuple(cell(x, hx)), _as_tuple(plain(x, hx)), strict=True):
        torch.testing.assert_close(a, b, **TOLERANCE)


@pytest.mark.parametrize(
    "cell_cls,zoneout", [(snn.RNNCell, {}), (snn.GRUCell, {}), (snn.LSTMCell, {"zoneout_cell": 0.3})]
)
def test_zoneout_keeps_each_unit_old_or_new_in_training_and_mixes_by_p_in_eval(cell_cls, zoneout):
    """Every state, the LSTM's h included, against the plain cell's new value (torch's kernel).

    Krueger et al. (2016) zone out h towards ``o ⊙ tanh(c̃)`` with the *un-zoned* new cell c̃,
    which is exactly the plain cell's new h: so each unit of every state is the old value or
    the plain cell's (training), or p · old + (1 - p) · plain (evaluation).
    """
    torch.manual_seed(1)
    cell = cell_cls(3, 64, zoneout_hidden=0.4, dtype=torch.float64, **zoneout)
    probabilities = (0.4, 0.3)  # h, then c
    plain = _plain_twin(cell)
    x = torch.randn(8, 3, dtype=torch.float64)
    old = tuple(torch.randn(8, 64, dtype=torch.float64) for _ in range(2 if cell_cls is snn.LSTMCell else 1))
    hx = old if len(old) == 2 else old[0]
    new = _as_tuple(plain(x, hx))
    for zoned, before, fresh in zip(_as_tuple(cell(x, hx)), old, new, strict=True):
        is_old = torch.isclose(zoned, before, rtol=0, atol=1e-12)
        is_new = torch.isclose(zoned, fresh, rtol=0, atol=1e-12)
        assert torch.all(is_old | is_new) and is_old.any() and is_new.any()
    cell.eval()
    for evaluated, before, fresh, p in zip(_as_tuple(cell(x, hx)), old, new, probabilities):
        torch.testing.assert_close(evaluated, p * before + (1 - p) * fresh, **TOLERANCE)


def zoned_lstm_by_equations(params, x, masks, layer_norm_on, peephole_on):
    """Zoneout LSTM of Krueger et al. (2016), Section 3.2, written out step by step::

        c_t = d^c_t ⊙ c_{t-1} + (1 - d^c_t) ⊙ (f_t ⊙ c_{t-1} + i_t ⊙ g_t)
        h_t = d^h_t ⊙ h_{t-1} + (1 - d^h_t) ⊙ (o_t ⊙ tanh(f_t ⊙ c_{t-1} + i_t ⊙ g_t))

    with torch's gate order (i, f, g, o). The paper has neither peepholes nor layer norm;
    seqlab's choice, tested here, is that both read the un-zoned new cell
    ``f_t ⊙ c_{t-1} + i_t ⊙ g_t``: ``o_t = σ(... + p_o ⊙ c̃_t)`` and ``tanh(LN(c̃_t))``.

    Args:
        params: the named parameters of a one-layer, one-direction seqlab LSTM.
        x: ``(T, B, I)``.
        masks: one ``(d^c_t, d^h_t)`` pair per step: 0/1 tensors ``(B, H)`` in training, the
            probabilities (the masks' expectations) in evaluation.

    Returns:
        ``(h_1..h_T stacked (T, B, H), (h_T, c_T))``.
    """
    hidden = params["weight_hh_l0"].shape[1]
    h = x.new_zeros(x.shape[1], hidden)
    c = x.new_zeros(x.shape[1], hidden)
    outputs = []
    for x_t, (d_c, d_h) in zip(x, masks, strict=True):
        wx, wh = x_t @ params["weight_ih_l0"].T, h @ params["weight_hh_l0"].T
        if layer_norm_on:
            wx, wh = layer_norm(wx, params["ln_gain_ih_l0"]), layer_norm(wh, params["ln_gain_hh_l0"])
        a = wx + wh + params["bias_ih_l0"] + params["bias_hh_l0"]
        a_i, a_f, a_g, a_o = a.split(hidden, dim=1)
        if peephole_on:
            a_i = a_i + params["weight_ci_l0"] * c
            a_f = a_f + params["weight_cf_l0"] * c
        i, f, g = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g)
        new_cell = f * c + i * g
        if peephole_on:
            a_o = a_o + params["weight_co_l0"] * new_cell
        shown = new_cell
        if layer_norm_on:
            shown = layer_norm(new_cell, params["ln_gain_cell_l0"], params["ln_bias_cell_l0"])
        new_hidden = torch.sigmoid(a_o) * torch.tanh(shown)
        c = d_c * c + (1 - d_c) * new_cell
        h = d_h * h + (1 - d_h) * new_hidden
        outputs.append(h)
    return torch.stack(outputs), (h, c)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("layer_norm_on,peephole_on", [(False, False), (False, True), (True, False), (True, True)])
def test_zoneout_lstm_follows_the_papers_equations(training, layer_norm_on, peephole_on):
    """The layer against :func:`zoned_lstm_by_equations`, with random values in every parameter.

    Training: the masks are replayed from the seed the layer runs with. The layer draws, at
    each step, d^c and then d^h as ``bernoulli_(p)`` on a float64 ``(B, H)`` tensor, and
    nothing else (no other regulariser is on); a change of that order fails this test, it
    cannot make it pass. Evaluation: every mask is its expectation, p.
    """
    steps, batch, p_cell, p_hidden = 6, 5, 0.3, 0.4
    options = dict(layer_norm=layer_norm_on, peephole=peephole_on, zoneout_cell=p_cell, zoneout_hidden=p_hidden)
    layer = _randomised(snn.LSTM(3, H, dtype=torch.float64, **options)).train(training)
    x = torch.randn(steps, batch, 3, dtype=torch.float64)
    if training:
        torch.manual_seed(11)
        masks = [
            tuple(torch.empty(batch, H, dtype=torch.float64).bernoulli_(p) for p in (p_cell, p_hidden))
            for _ in range(steps)
        ]
        drawn = torch.stack([torch.stack(pair) for pair in masks])
        assert drawn.any() and not drawn.all()  # some units zoned out, some updated
    else:
        masks = [(p_cell, p_hidden)] * steps
    expected_output, (expected_h, expected_c) = zoned_lstm_by_equations(
        dict(layer.named_parameters()), x, masks, layer_norm_on, peephole_on
    )
    torch.manual_seed(11)
    output, (h_n, c_n) = layer(x)
    torch.testing.assert_close(output, expected_output, **TOLERANCE)
    torch.testing.assert_close(h_n[0], expected_h, **TOLERANCE)
    torch.testing.assert_close(c_n[0], expected_c, **TOLERANCE)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_state_dropout_applies_one_mask_per_sequence_to_h_before_w_hh(kind):
    """Equals a plain cell stepped with h ⊙ m, for one mask m drawn once for the sequence."""
    p, steps, batch = 0.5, 6, 4
    layer_cls, cell_cls = (snn.GRU, snn.GRUCell) if kind == "gru" else (snn.LSTM, snn.LSTMCell)
    layer = layer_cls(3, 5, state_dropout=p, dtype=torch.float64)
    cell = cell_cls(3, 5, dtype=torch.float64)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in layer.state_dict().items()})
    x = torch.randn(steps, batch, 3, dtype=torch.float64)
    torch.manual_seed(5)
    mask = torch.empty(batch, 5, dtype=torch.float64).bernoulli_(1 - p) / (1 - p)
    torch.manual_seed(5)
    output, _ = layer(x)
    h = torch.zeros(batch, 5, dtype=torch.float64)
    c = torch.zeros_like(h)
    for t in range(steps):
        if kind == "gru":
            # torch's GRUCell uses one h for gates and interpolation; build the step by hand.
            gi = x[t] @ cell.weight_ih.T + cell.bias_ih
            gh = (h * mask) @ cell.weight_hh.T + cell.bias_hh
            r, z = torch.sigmoid(gi[:, :5] + gh[:, :5]), torch.sigmoid(gi[:, 5:10] + gh[:, 5:10])
            n = torch.tanh(gi[:, 10:] + r * gh[:, 10:])
            h = (1 - z) * n + z * h
        else:
            i, f, g, o = _lstm_gates(cell, x[t], h * mask)
            c = f * c + i * g
            h = o * torch.tanh(c)
        torch.testing.assert_close(output[t], h, **TOLERANCE)


@pytest.mark.parametrize(
    "options", [{"state_dropout": 0.3}, {"recurrent_dropout": 0.3}, {"zoneout_hidden": 0.2, "zoneout_cell": 0.1}]
)
def test_regularised_layers_run_per_step_and_equal_torch_in_eval_without_zoneout(options):
    torch.manual_seed(2)
    ours = snn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=torch.float64, **options)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=torch.float64)
    theirs.load_state_dict(ours.state_dict())
    assert not ours.uses_fused_kernel
    ours.eval()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    if "zoneout_hidden" in options:
        assert not torch.allclose(ours(x)[0], theirs(x)[0])  # the expectation mixes old and new
    else:
        torch.testing.assert_close(ours(x)[0], theirs(x)[0], **TOLERANCE)


def test_zoneout_in_eval_has_correct_gradients():
    layer = snn.LSTM(3, 2, zoneout_hidden=0.3, zoneout_cell=0.2, dtype=torch.float64).eval()
    x = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: layer(x)[0], (x,))


@pytest.mark.parametrize("training", [True, False])
def test_zoneout_lstm_gradients_of_input_and_every_parameter_equal_central_differences(training):
    """gradcheck (eps 1e-6, atol 1e-7) on a layer-norm peephole LSTM with zoneout on h and c;
    in training the masks are held fixed by reseeding before every evaluation."""
    layer = snn.LSTM(
        3, 2, layer_norm=True, peephole=True, zoneout_hidden=0.3, zoneout_cell=0.4, dtype=torch.float64
    ).train(training)
    names, params = zip(*layer.named_parameters())
    x = torch.randn(3, 2, 3, dtype=torch.float64, requires_grad=True)

    def run(x, *values):
        torch.manual_seed(3)  # the same zoneout masks at every call
        output, (h_n, c_n) = torch.func.functional_call(layer, dict(zip(names, values)), (x,))
        return output, c_n

    assert torch.autograd.gradcheck(run, (x, *params), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("layer_cls,option", [(snn.RNN, "zoneout_cell"), (snn.GRU, "zoneout_cell")])
def test_options_a_cell_kind_lacks_are_refused(layer_cls, option):
    with pytest.raises(TypeError):
        layer_cls(3, 4, **{option: 0.1})


def test_regularisation_probabilities_are_checked():
    with pytest.raises(ValueError, match=r"zoneout_hidden must be a probability in \[0, 1\), got 1.5"):
        snn.LSTM(3, 4, zoneout_hidden=1.5)
