"""CharLM: shapes, its loss is the cross-entropy of its logits, state carries across calls."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from seqlab.errors import SeqlabError
from seqlab.models import CharLM, CharLMConfig


def make_model(**overrides) -> CharLM:
    torch.manual_seed(0)
    config = CharLMConfig(vocab_size=11, embedding_size=6, hidden_size=8, **overrides)
    return CharLM(config).double().eval()


def test_shapes_are_time_first():
    model = make_model(num_layers=2)
    tokens = torch.randint(11, (7, 3))  # (T, B)
    logits, (h, c), loss = model(tokens)
    assert logits.shape == (7, 3, 11)
    assert h.shape == c.shape == (2, 3, 8)
    assert loss is None


def test_loss_is_the_mean_cross_entropy_of_the_logits():
    model = make_model()
    tokens, targets = torch.randint(11, (7, 3)), torch.randint(11, (7, 3))
    logits, _, loss = model(tokens, targets=targets)
    log_probs = torch.log_softmax(logits, dim=-1)  # (T, B, V)
    expected = -log_probs.gather(-1, targets.unsqueeze(-1)).mean()
    torch.testing.assert_close(loss, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(loss, F.cross_entropy(logits.reshape(-1, 11), targets.reshape(-1)))


def test_state_carries_a_sequence_across_calls():
    model = make_model(num_layers=2)
    tokens = torch.randint(11, (10, 3))
    whole, _, _ = model(tokens)
    first, state, _ = model(tokens[:4])
    second, _, _ = model(tokens[4:], state)
    torch.testing.assert_close(torch.cat([first, second]), whole, rtol=0, atol=1e-12)


def test_tied_weights_share_one_matrix():
    model = CharLM(CharLMConfig(vocab_size=11, embedding_size=8, hidden_size=8, tie_weights=True))
    assert model.head.weight is model.embedding.weight
    untied = CharLM(CharLMConfig(vocab_size=11, embedding_size=8, hidden_size=8))
    assert untied.num_parameters() - model.num_parameters() == 11 * 8


def test_dropout_is_off_in_eval_mode():
    model = make_model(dropout=0.5)
    tokens = torch.randint(11, (5, 2))
    torch.testing.assert_close(model(tokens).logits, model(tokens).logits, rtol=0, atol=0)


@pytest.mark.parametrize(
    "overrides",
    [
        {"hidden_size": 0},
        {"num_layers": 0},
        {"dropout": 1.0},
        {"tie_weights": True, "embedding_size": 4, "hidden_size": 8},
    ],
)
def test_bad_configs_are_rejected(overrides):
    with pytest.raises(SeqlabError):
        CharLMConfig(vocab_size=11, **overrides)
