"""Regularisation inside the recurrent step, each tested by its defining property.

Variational state dropout (Gal & Ghahramani 2016), recurrent dropout on the cell update
(Semeniuta et al. 2016) and zoneout (Krueger et al. 2016); mission parts R2-R4.
"""

import pytest
import torch

import seqlab.nn as snn

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
    torch.manual_seed(1)
    cell = cell_cls(3, 64, zoneout_hidden=0.4, dtype=torch.float64, **zoneout)
    plain = _plain_twin(cell)
    x = torch.randn(8, 3, dtype=torch.float64)
    old = tuple(torch.randn(8, 64, dtype=torch.float64) for _ in range(2 if cell_cls is snn.LSTMCell else 1))
    hx = old if len(old) == 2 else old[0]
    new = _as_tuple(plain(x, hx))
    # The LSTM's h is computed from the zoned-out c, so compare h only where c was not zoned.
    zoned = _as_tuple(cell(x, hx))
    c_fresh = torch.ones_like(zoned[0], dtype=torch.bool)
    if len(old) == 2:
        c_fresh = torch.isclose(zoned[1], new[1], rtol=0, atol=1e-12)
        assert torch.all(c_fresh | torch.isclose(zoned[1], old[1], rtol=0, atol=1e-12))
    is_old = torch.isclose(zoned[0], old[0], rtol=0, atol=1e-12)
    is_new = torch.isclose(zoned[0], new[0], rtol=0, atol=1e-12)
    assert torch.all(is_old | is_new | ~c_fresh) and is_old.any() and (is_new & c_fresh).any()
    cell.eval()
    expected_c = 0.3 * old[1] + 0.7 * new[1] if len(old) == 2 else None
    evaluated = _as_tuple(cell(x, hx))
    if expected_c is not None:
        torch.testing.assert_close(evaluated[1], expected_c, **TOLERANCE)
        i, f, g, o = _lstm_gates(cell, x, old[0])
        new_h = o * torch.tanh(expected_c)
    else:
        new_h = new[0]
    torch.testing.assert_close(evaluated[0], 0.4 * old[0] + 0.6 * new_h, **TOLERANCE)


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


@pytest.mark.parametrize("layer_cls,option", [(snn.RNN, "zoneout_cell"), (snn.GRU, "zoneout_cell")])
def test_options_a_cell_kind_lacks_are_refused(layer_cls, option):
    with pytest.raises(TypeError):
        layer_cls(3, 4, **{option: 0.1})


def test_regularisation_probabilities_are_checked():
    with pytest.raises(ValueError, match=r"zoneout_hidden must be a probability in \[0, 1\), got 1.5"):
        snn.LSTM(3, 4, zoneout_hidden=1.5)
