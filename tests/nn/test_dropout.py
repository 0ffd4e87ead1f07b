"""RNN dropout variants, each tested by its defining property (mission parts R2, R5, R6)."""

import warnings

import pytest
import torch

import seqlab.nn as snn
from seqlab.errors import SeqlabError
from seqlab.nn import fused
from tests.nn.conftest import LAYER_KINDS, twin_layers


@pytest.mark.parametrize("batch_first", [False, True])
def test_locked_dropout_uses_one_mask_for_every_time_step(batch_first):
    drop = snn.LockedDropout(0.5, batch_first=batch_first)
    x = torch.ones(2, 7, 64) if batch_first else torch.ones(7, 2, 64)
    y = drop(x)
    steps = y.unbind(1 if batch_first else 0)
    assert all(torch.equal(step, steps[0]) for step in steps)
    assert set(y.unique().tolist()) == {0.0, 2.0}  # dropped, or kept and scaled by 1 / (1 - p)
    per_sequence = steps[0]
    assert not torch.equal(per_sequence[0], per_sequence[1])  # sequences get their own masks


def test_locked_dropout_keeps_the_expectation_and_is_the_identity_in_eval():
    drop = snn.LockedDropout(0.3)
    x = torch.randn(5, 400, 50)
    assert drop(torch.ones(1, 2000, 100)).mean().item() == pytest.approx(1.0, abs=0.02)
    drop.eval()
    assert drop(x) is x


def test_embedding_dropout_drops_whole_words_everywhere_they_occur():
    torch.manual_seed(0)
    embedding = torch.nn.Embedding(50, 8)
    tokens = torch.arange(50).repeat(6, 1)  # (6, 50): every word six times
    out = snn.embedding_dropout(embedding, tokens, 0.5, training=True)  # (6, 50, 8)
    dropped = (out == 0).all(-1)  # (6, 50)
    assert torch.equal(dropped, dropped[0].expand_as(dropped))  # same words dropped in every row
    assert 0 < dropped[0].sum() < 50
    kept = ~dropped[0]
    torch.testing.assert_close(out[0, kept], embedding.weight[kept] * 2)
    assert torch.equal(snn.embedding_dropout(embedding, tokens, 0.5, training=False), embedding(tokens))


def test_dropout_probabilities_outside_zero_to_one_are_refused():
    with pytest.raises(SeqlabError, match=r"must be in \[0, 1\), got 1.0"):
        snn.LockedDropout(1.0)
    with pytest.raises(ValueError, match=r"weight_drop must be a probability in \[0, 1\), got -0.1"):
        snn.LSTM(3, 4, weight_drop=-0.1)


def _mask_like_weight_drop(ours, theirs, seed, p):
    """Multiply torch's layer ``theirs`` by the masks the weight_drop layer ``ours`` will draw from
    ``seed`` (in its order), then seed the generator so that it draws them; the masks by name."""
    torch.manual_seed(seed)
    masks = {
        name: torch.nn.functional.dropout(torch.ones_like(param), p)
        for name, param in ours.named_parameters()
        if name.startswith("weight_hh")
    }
    with torch.no_grad():
        for name, mask in masks.items():
            getattr(theirs, name).mul_(mask)
    torch.manual_seed(seed)
    return masks


@pytest.mark.parametrize("kind", LAYER_KINDS)
@pytest.mark.parametrize("implementation", ["auto", "per_step"])
def test_weight_drop_equals_torch_run_on_the_masked_recurrent_weights(kind, implementation):
    p = 0.4
    ours, theirs = twin_layers(kind, implementation=implementation, input_size=3, hidden_size=4,
                               num_layers=2, bidirectional=True)  # fmt: skip
    ours.weight_drop = p
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    masks = _mask_like_weight_drop(ours, theirs, 11, p)
    output, _ = ours(x)
    torch.testing.assert_close(output, theirs(x)[0], rtol=0, atol=1e-12)
    output.sum().backward()
    for name, mask in masks.items():  # no gradient reaches a dropped connection
        assert torch.all(getattr(ours, name).grad[mask == 0] == 0)


def test_weight_drop_keeps_the_fused_kernel_and_leaves_the_parameters_untouched():
    lstm = snn.LSTM(3, 4, weight_drop=0.5)
    before = lstm.weight_hh_l0.detach().clone()
    assert lstm.uses_fused_kernel
    lstm(torch.randn(5, 2, 3))
    assert torch.equal(lstm.weight_hh_l0, before)


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_one_weight_drop_mask_holds_one_mask_over_every_call_in_the_block(kind):
    """A decoder calls its layer once per token; inside the block every call reads the same masked W_hh,
    the mask of torch's layer run on the whole sequence at once."""
    p = 0.4
    ours, theirs = twin_layers(kind, input_size=3, hidden_size=4, num_layers=2)
    ours.weight_drop = p
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    masks = _mask_like_weight_drop(ours, theirs, 11, p)
    with ours.one_weight_drop_mask():
        state, steps = None, []
        for t in range(x.size(0)):  # one call per step, each carrying the state on
            output, state = ours(x[t : t + 1], state)
            steps.append(output)
    torch.testing.assert_close(torch.cat(steps), theirs(x)[0], rtol=0, atol=1e-12)
    torch.cat(steps).sum().backward()
    for name, mask in masks.items():
        assert torch.all(getattr(ours, name).grad[mask == 0] == 0)


def test_outside_the_block_every_call_draws_a_new_mask():
    gru = snn.GRU(3, 4, weight_drop=0.5)
    x = torch.randn(2, 1, 3)
    with gru.one_weight_drop_mask():
        assert torch.equal(gru(x)[0], gru(x)[0])
    assert not torch.equal(gru(x)[0], gru(x)[0])


def test_a_block_inside_another_gives_the_outer_mask_back():
    gru = snn.GRU(3, 4, weight_drop=0.5)
    x = torch.randn(2, 1, 3)
    with gru.one_weight_drop_mask():
        outer = gru(x)[0]
        with gru.one_weight_drop_mask():
            assert not torch.equal(gru(x)[0], outer)
        assert torch.equal(gru(x)[0], outer)


def test_weight_drop_is_off_in_eval_mode():
    ours, theirs = twin_layers("lstm", input_size=3, hidden_size=4)
    ours.weight_drop = 0.5
    ours.eval()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], rtol=0, atol=0)


def test_weight_drop_silences_only_the_not_flattened_warning_of_the_kernel(monkeypatch):
    """cuDNN warns that masked weights are not flattened; that copy is DropConnect's, so it is hushed."""
    kernel = fused.KERNELS["LSTM"]

    def warning_kernel(*args):
        warnings.warn(fused.NOT_FLATTENED_WARNING + ". This means they need to be compacted ...", stacklevel=1)
        warnings.warn("some other problem", stacklevel=1)
        return kernel(*args)

    monkeypatch.setitem(fused.KERNELS, "LSTM", warning_kernel)
    x = torch.randn(3, 2, 4)
    with pytest.warns(UserWarning) as dropped:
        snn.LSTM(4, 5, weight_drop=0.5).train()(x)
    assert [str(w.message) for w in dropped] == ["some other problem"]
    with pytest.warns(UserWarning) as plain:
        snn.LSTM(4, 5).train()(x)
    assert len(plain) == 2  # without DropConnect the warning is a real one and stays
