"""RNNLanguageModel: the Zaremba and AWD-LSTM model, and every regulariser it switches on."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from seqlab.errors import SeqlabError
from seqlab.models import RNNLanguageModel, RNNLMConfig
from seqlab.nn import activation_penalty, temporal_activation_penalty

V = 11


def make_model(**overrides) -> RNNLanguageModel:
    torch.manual_seed(0)
    settings = {"vocab_size": V, "embedding_size": 6, "hidden_size": 8, **overrides}
    return RNNLanguageModel(RNNLMConfig(**settings)).double().eval()


@pytest.mark.parametrize(("cell", "state_kind"), [("lstm", tuple), ("gru", torch.Tensor), ("rnn", torch.Tensor)])
def test_shapes_are_time_first_with_one_state_per_layer(cell, state_kind):
    model = make_model(num_layers=2, cell=cell)
    tokens = torch.randint(V, (7, 3))  # (T, B)
    out = model(tokens)
    assert out.logits.shape == (7, 3, V)
    assert out.features.shape == (7, 3, 8)
    assert len(out.state) == 2 and all(isinstance(layer, state_kind) for layer in out.state)
    assert out.loss is None and out.cross_entropy is None


def test_equals_the_same_model_written_with_torch_nn():
    """The pytorch/examples word LM: embedding, nn.LSTM with 2 layers, linear; same weights."""
    model = make_model(num_layers=2)
    embedding, lstm, head = nn.Embedding(V, 6), nn.LSTM(6, 8, 2), nn.Linear(8, V)
    with torch.no_grad():
        embedding.weight.copy_(model.embedding.weight)
        head.load_state_dict(model.head.state_dict())
        for index, layer in enumerate(model.layers):
            for name, value in layer.state_dict().items():
                getattr(lstm, name.replace("l0", f"l{index}")).copy_(value)
    reference = nn.ModuleList([embedding, lstm, head]).double()
    tokens = torch.randint(V, (9, 4))
    hidden, _ = reference[1](reference[0](tokens))
    torch.testing.assert_close(model(tokens).logits, reference[2](hidden), rtol=0, atol=1e-12)


def test_eval_loss_is_the_mean_cross_entropy_of_the_logits():
    model = make_model(activation_penalty=2.0, temporal_penalty=1.0)
    tokens, targets = torch.randint(V, (7, 3)), torch.randint(V, (7, 3))
    out = model(tokens, targets=targets)
    log_probs = torch.log_softmax(out.logits, dim=-1)  # (T, B, V)
    expected = -log_probs.gather(-1, targets.unsqueeze(-1)).mean()
    torch.testing.assert_close(out.cross_entropy, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(out.loss, out.cross_entropy, rtol=0, atol=0)


def test_training_loss_adds_ar_on_the_dropped_output_and_tar_on_the_raw_output():
    model = make_model(activation_penalty=2.0, temporal_penalty=1.0, dropout=0.5, locked_dropout=True).train()
    tokens, targets = torch.randint(V, (7, 3)), torch.randint(V, (7, 3))
    torch.manual_seed(5)
    out = model(tokens, targets=targets)
    # The dropped output is what the head read: recover it from the logits' linear map.
    dropped = torch.linalg.lstsq(model.head.weight, (out.logits - model.head.bias).reshape(-1, V).T).solution
    dropped = dropped.T.reshape(7, 3, 8)
    expected = out.cross_entropy + activation_penalty(dropped, 2.0) + temporal_activation_penalty(out.features, 1.0)
    torch.testing.assert_close(out.loss, expected, rtol=1e-9, atol=1e-9)
    assert not torch.equal(dropped, out.features)


def test_state_carries_a_sequence_across_calls():
    model = make_model(num_layers=3)
    tokens = torch.randint(V, (10, 3))
    whole = model(tokens).logits
    first = model(tokens[:4])
    second = model(tokens[4:], first.state)
    torch.testing.assert_close(torch.cat([first.logits, second.logits]), whole, rtol=0, atol=1e-12)


def test_tied_weights_share_one_matrix_and_size_the_last_layer_like_awd_lstm():
    model = make_model(num_layers=3, tie_weights=True, embedding_size=4, hidden_size=8)
    assert model.head.weight is model.embedding.weight
    assert [layer.hidden_size for layer in model.layers] == [8, 8, 4]
    untied = make_model(num_layers=3, embedding_size=4, hidden_size=8)
    assert [layer.hidden_size for layer in untied.layers] == [8, 8, 8]


def test_weight_drop_keeps_the_fused_kernel_and_every_layer_gets_it():
    model = make_model(num_layers=2, weight_drop=0.5)
    assert all(layer.weight_drop == 0.5 and layer.uses_fused_kernel for layer in model.layers)


def test_locked_dropout_uses_one_mask_per_sequence():
    model = make_model(dropout_input=0.5, locked_dropout=True).train()
    seen = []
    model.layers[0].register_forward_hook(lambda module, args, output: seen.append(args[0]))
    tokens = torch.zeros(6, 4, dtype=torch.long)  # the same embedding at every step
    model(tokens)
    zeros = seen[0] == 0  # (T, B, E)
    assert zeros.any() and (zeros == zeros[0]).all()


def test_ordinary_dropout_draws_a_new_mask_each_step():
    model = make_model(dropout_input=0.5, locked_dropout=False).train()
    seen = []
    model.layers[0].register_forward_hook(lambda module, args, output: seen.append(args[0]))
    model(torch.zeros(20, 4, dtype=torch.long))
    zeros = seen[0] == 0
    assert not (zeros == zeros[0]).all()


def test_every_dropout_is_off_in_eval_mode():
    model = make_model(
        num_layers=2, dropout=0.5, dropout_input=0.5, dropout_between=0.5, dropout_embedding=0.5, weight_drop=0.5
    )
    tokens = torch.randint(V, (5, 2))
    torch.testing.assert_close(model(tokens).logits, model(tokens).logits, rtol=0, atol=0)


def test_zaremba_initialisation_puts_every_parameter_in_the_range():
    model = make_model(num_layers=2, init_range=0.05, forget_bias=None)
    assert all(parameter.abs().max() <= 0.05 for parameter in model.parameters())


def test_default_initialisation_sets_the_forget_bias_and_a_zero_output_bias():
    model = make_model(forget_bias=1.0)
    hidden = 8
    bias = model.layers[0].bias_ih_l0 + model.layers[0].bias_hh_l0
    torch.testing.assert_close(bias[hidden : 2 * hidden], torch.ones(hidden, dtype=torch.double))
    assert torch.equal(model.head.bias, torch.zeros(V, dtype=torch.double))
    assert model.embedding.weight.abs().max() <= 0.1


def test_gradients_reach_every_parameter_with_all_regularisers_on():
    model = make_model(
        num_layers=2, dropout=0.3, dropout_input=0.3, dropout_between=0.3, dropout_embedding=0.1,
        weight_drop=0.3, locked_dropout=True, activation_penalty=2.0, temporal_penalty=1.0, tie_weights=True,
    ).train()  # fmt: skip
    tokens = torch.randint(V, (8, 3))
    model(tokens, targets=tokens).loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_loss_gradient_matches_finite_differences():
    model = make_model(num_layers=2, tie_weights=True, hidden_size=6)
    tokens, targets = torch.randint(V, (5, 2)), torch.randint(V, (5, 2))
    parameters = dict(model.named_parameters())
    names = list(parameters)

    def loss(*values):
        return torch.func.functional_call(model, dict(zip(names, values)), (tokens, None, targets)).loss

    assert torch.autograd.gradcheck(loss, tuple(parameters.values()), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "overrides",
    [
        {"hidden_size": 0},
        {"num_layers": 0},
        {"dropout": 1.0},
        {"weight_drop": -0.1},
        {"cell": "transformer"},
        {"init_range": 0.0},
        {"activation_penalty": -1.0},
    ],
)
def test_bad_configs_are_rejected(overrides):
    with pytest.raises(SeqlabError, match=next(iter(overrides))):
        RNNLMConfig(vocab_size=V, **overrides)
