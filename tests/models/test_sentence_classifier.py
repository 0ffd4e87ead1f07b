"""The sentence classifier: blind to padding, each pooling the same computation as torch.nn's layers written
out here, the averaged-vector softmax written out, and the loss and the gradients of a trainable model."""

from __future__ import annotations

import doctest
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from seqlab.errors import SeqlabError
from seqlab.models import sentence_classifier
from seqlab.models.classifier_configs import ClassifierConfig
from seqlab.models.sentence_classifier import SentenceClassifier

VOCAB, CLASSES = 13, 3
TORCH_LAYERS = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}
RECURRENT = [
    dict(encoder=encoder, bidirectional=bidirectional, num_layers=layers, pooling=pooling)
    for encoder in TORCH_LAYERS
    for bidirectional in (False, True)
    for layers in (1, 2)
    for pooling in ("last", "mean", "max")
]
ALL_KINDS = [dict(encoder="average", pooling="mean"), *RECURRENT]


def kind_id(kind: dict) -> str:
    return "-".join(str(value) for value in kind.values())


def make_model(**overrides) -> SentenceClassifier:
    torch.manual_seed(0)
    settings = dict(vocab_size=VOCAB, num_classes=CLASSES, embedding_size=4, hidden_size=3, dropout=0.0)
    return SentenceClassifier(ClassifierConfig(**(settings | overrides))).double().eval()


def make_batch():
    """Three sentences of lengths 5, 3 and 1, padded with 0, and their labels."""
    tokens = torch.tensor([[3, 4, 5, 6, 7], [8, 9, 10, 0, 0], [12, 0, 0, 0, 0]])
    return tokens, torch.tensor([5, 3, 1]), torch.tensor([2, 0, 1])


def torch_reference(model: SentenceClassifier) -> torch.nn.Module:
    """The torch.nn layer of the model's encoder, given the same weights (seqlab.nn layers are drop-in)."""
    config = model.config
    layer = TORCH_LAYERS[config.encoder](
        config.embedding_size,
        config.hidden_size,
        num_layers=config.num_layers,
        bidirectional=config.bidirectional,
        batch_first=True,
    ).double()
    layer.load_state_dict(model.rnn.state_dict())
    return layer


def pooled_by_hand(outputs: torch.Tensor, pooling: str, hidden_size: int, bidirectional: bool) -> torch.Tensor:
    """The pooling of one unpadded sentence's top-layer outputs ``(T, D*H)``, as the config defines it."""
    if pooling == "mean":
        return outputs.mean(dim=0)
    if pooling == "max":
        return outputs.max(dim=0).values
    forward_last = outputs[-1, :hidden_size]  # the forward direction after the last token
    if not bidirectional:
        return forward_last
    return torch.cat([forward_last, outputs[0, hidden_size:]])  # the backward direction after reading back to token 1


@pytest.mark.parametrize("kind", ALL_KINDS, ids=kind_id)
def test_a_sentence_alone_and_inside_a_padded_batch_gets_the_same_logits(kind):
    model = make_model(**kind)
    tokens, lengths, _ = make_batch()
    batch_logits = model(tokens, lengths).logits
    for b, length in enumerate(lengths.tolist()):
        alone = model(tokens[b : b + 1, :length], lengths[b : b + 1]).logits
        torch.testing.assert_close(alone[0], batch_logits[b], rtol=0, atol=1e-12)
    other_padding = tokens.masked_fill(tokens == 0, 7)
    torch.testing.assert_close(model(other_padding, lengths).logits, batch_logits, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", RECURRENT, ids=kind_id)
def test_each_pooling_is_torch_nn_outputs_pooled_by_hand(kind):
    model = make_model(**kind)
    reference = torch_reference(model)
    tokens, lengths, _ = make_batch()
    for b, length in enumerate(lengths.tolist()):
        sentence = tokens[b : b + 1, :length]  # (1, L): unpadded
        outputs, _ = reference(model.embedding(sentence))  # (1, L, D*H)
        pooled = pooled_by_hand(outputs[0], kind["pooling"], model.config.hidden_size, kind["bidirectional"])
        expected = pooled @ model.head.weight.T + model.head.bias
        torch.testing.assert_close(model(sentence, lengths[b : b + 1]).logits[0], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", [k for k in RECURRENT if k["pooling"] == "last"], ids=kind_id)
def test_last_pooling_is_h_n_of_the_top_layer(kind):
    model = make_model(**kind)
    tokens, lengths, _ = make_batch()
    sentence = tokens[:1]
    _, final = torch_reference(model)(model.embedding(sentence))
    h_n = final[0] if kind["encoder"] == "lstm" else final  # (L*D, 1, H)
    directions = 2 if kind["bidirectional"] else 1
    expected = torch.cat(list(h_n[-directions:, 0])) @ model.head.weight.T + model.head.bias
    torch.testing.assert_close(model(sentence, lengths[:1]).logits[0], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_average_is_the_mean_of_the_word_vectors_times_the_output_layer(pooling):
    model = make_model(encoder="average", pooling=pooling)
    tokens, lengths, _ = make_batch()
    logits = model(tokens, lengths).logits
    for b, length in enumerate(lengths.tolist()):
        mean = model.embedding.weight[tokens[b, :length]].mean(dim=0)  # (E,)
        torch.testing.assert_close(logits[b], mean @ model.head.weight.T + model.head.bias, rtol=0, atol=1e-12)


def test_the_average_model_has_only_an_embedding_and_one_softmax_layer():
    model = make_model(encoder="average", pooling="mean")
    assert model.rnn is None
    assert sorted(name for name, _ in model.named_parameters()) == ["embedding.weight", "head.bias", "head.weight"]
    assert model.head.in_features == model.config.embedding_size


@pytest.mark.parametrize("kind", ALL_KINDS[:1] + RECURRENT[-6:], ids=kind_id)
def test_the_loss_is_the_cross_entropy_of_the_logits_and_only_with_labels(kind):
    model = make_model(**kind)
    tokens, lengths, labels = make_batch()
    out = model(tokens, lengths, labels)
    torch.testing.assert_close(out.loss, F.cross_entropy(out.logits, labels), rtol=0, atol=0)
    assert out.logits.shape == (3, CLASSES)
    assert model(tokens, lengths).loss is None


@pytest.mark.parametrize("kind", ALL_KINDS, ids=kind_id)
def test_gradients_reach_every_parameter_but_never_the_padding_row(kind):
    # Wider than elsewhere: with 3 units, max pooling may find every maximum at step 1, where W_hh has no effect.
    model = make_model(**kind, hidden_size=8)
    tokens, lengths, labels = make_batch()
    model(tokens, lengths, labels).loss.backward()
    silent = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert silent == []
    assert torch.all(model.embedding.weight.grad[model.config.padding_id] == 0)


@pytest.mark.parametrize("kind", ALL_KINDS[:1] + RECURRENT[-3:], ids=kind_id)
def test_frozen_embeddings_get_no_gradient_and_do_not_move_while_the_rest_learns(kind):
    model = make_model(**kind, freeze_embeddings=True)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimiser = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=0.1)
    tokens, lengths, labels = make_batch()
    model(tokens, lengths, labels).loss.backward()
    optimiser.step()
    assert model.embedding.weight.grad is None
    torch.testing.assert_close(model.embedding.weight, before["embedding.weight"], rtol=0, atol=0)
    moved = [name for name, p in model.named_parameters() if not torch.equal(p, before[name])]
    assert moved == [name for name, _ in model.named_parameters() if name != "embedding.weight"]


def test_fine_tuned_embeddings_move():
    model = make_model(encoder="lstm", freeze_embeddings=False)
    before = model.embedding.weight.detach().clone()
    tokens, lengths, labels = make_batch()
    model(tokens, lengths, labels).loss.backward()
    torch.optim.SGD(model.parameters(), lr=0.5).step()
    assert not torch.equal(model.embedding.weight, before)


GRADCHECK_KINDS = [ALL_KINDS[0]] + [
    dict(encoder=encoder, bidirectional=True, num_layers=2, pooling=pooling)
    for encoder, pooling in [("rnn", "last"), ("gru", "mean"), ("lstm", "max"), ("lstm", "last")]
]


@pytest.mark.parametrize("kind", GRADCHECK_KINDS, ids=kind_id)
def test_gradcheck_of_the_loss_with_respect_to_every_parameter(kind):
    model = make_model(**kind, embedding_size=3, hidden_size=2)
    tokens, lengths, labels = make_batch()
    names = [name for name, _ in model.named_parameters()]
    values = tuple(p.detach().clone().requires_grad_() for _, p in model.named_parameters())

    def loss(*parameters):
        return functional_call(model, dict(zip(names, parameters)), (tokens, lengths, labels)).loss

    assert torch.autograd.gradcheck(loss, values, eps=1e-6, atol=1e-7)


def test_pretrained_embeddings_are_copied_in_and_stay_frozen_when_the_config_says_so():
    model = make_model(encoder="gru", freeze_embeddings=True)
    matrix = torch.arange(VOCAB * 4, dtype=torch.float32).reshape(VOCAB, 4)
    model.load_pretrained_embeddings(matrix.numpy())
    torch.testing.assert_close(model.embedding.weight, matrix.double(), rtol=0, atol=0)
    assert model.embedding.weight.dtype == torch.float64 and not model.embedding.weight.requires_grad


def test_pretrained_embeddings_of_the_wrong_shape_are_refused():
    model = make_model(encoder="gru")
    with pytest.raises(SeqlabError, match=r"must be \(13, 4\) \(vocab, embedding\), got \(12, 4\)"):
        model.load_pretrained_embeddings(torch.zeros(12, 4))


def test_dropout_acts_in_training_only():
    model = make_model(encoder="lstm", pooling="mean", dropout=0.5)
    tokens, lengths, _ = make_batch()
    evaluated = model(tokens, lengths).logits
    torch.testing.assert_close(model(tokens, lengths).logits, evaluated, rtol=0, atol=0)
    model.train()
    torch.manual_seed(1)
    assert not torch.allclose(model(tokens, lengths).logits, evaluated)


@pytest.mark.parametrize(
    "lengths, message",
    [([5, 3, 0], r"lengths must be in \[1, 5\], got \[5, 3, 0\]"), ([6, 3, 1], r"in \[1, 5\]"), ([5, 3], r"\(3,\)")],
)
def test_lengths_outside_the_batch_are_refused(lengths, message):
    tokens, _, _ = make_batch()
    with pytest.raises(SeqlabError, match=message):
        make_model(encoder="average")(tokens, torch.tensor(lengths))


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"encoder": "cnn"}, r"encoder must be one of \['average', 'rnn', 'gru', 'lstm'\], got 'cnn'"),
        ({"pooling": "attention"}, r"pooling must be one of \['last', 'mean', 'max'\], got 'attention'"),
        ({"encoder": "average", "bidirectional": True}, "bidirectional=True needs a recurrent encoder"),
        ({"encoder": "average", "num_layers": 2}, "num_layers must be 1 with encoder 'average'.*got 2"),
        ({"encoder": "average", "pooling": "max"}, "pooling 'max' needs a recurrent encoder"),
        ({"num_layers": 0}, "num_layers must be at least 1, got 0"),
        ({"hidden_size": 0}, "hidden_size must be at least 1, got 0"),
        ({"num_classes": 1}, "num_classes must be at least 2, got 1"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
        ({"padding_id": 13}, r"padding_id must be a token id in \[0, 13\), got 13"),
    ],
)
def test_the_config_refuses_impossible_models_naming_the_field_and_value(overrides, message):
    with pytest.raises(SeqlabError, match=message):
        ClassifierConfig(**(dict(vocab_size=VOCAB, num_classes=CLASSES) | overrides))


@pytest.mark.parametrize(
    "overrides, size",
    [({"encoder": "average"}, 300), ({}, 168), ({"bidirectional": True, "hidden_size": 150}, 300)],
)
def test_the_sentence_vector_is_the_embedding_or_every_direction(overrides, size):
    assert ClassifierConfig(vocab_size=VOCAB, num_classes=CLASSES, **overrides).sentence_size == size


def test_the_config_imports_no_torch():
    code = "import sys, seqlab.models.classifier_configs; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_docstring_examples():
    result = doctest.testmod(sentence_classifier)
    assert result.attempted > 0 and result.failed == 0
