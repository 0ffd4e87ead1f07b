"""The continuous cache of Grave et al. (2017): checked against a loop-by-loop reference."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from seqlab.errors import SeqlabError
from seqlab.models.output import LanguageModelOutput
from seqlab.models.rnn_lm import RNNLanguageModel, RNNLMConfig
from seqlab.tasks.lm.evaluation import evaluate
from seqlab.tasks.lm.neural_cache import CacheConfig, evaluate_with_cache

VOCAB = 11


def tiny_model(seed: int = 0, **overrides) -> RNNLanguageModel:
    torch.manual_seed(seed)
    config = RNNLMConfig(vocab_size=VOCAB, embedding_size=8, hidden_size=16, num_layers=2, **overrides)
    return RNNLanguageModel(config).eval()


def random_streams(length: int = 29, batch: int = 3, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(VOCAB, (length, batch), generator=generator)  # (T, B)


def reference_loss(model: nn.Module, streams: torch.Tensor, cache: CacheConfig) -> float:
    """The definition, one stream and one position at a time, in float64.

    The model reads each whole stream in one call, so this also checks that the cache and the
    state are carried across BPTT windows.
    """
    with torch.no_grad():
        output = model(streams[:-1], None)
    log_model = output.logits.double().log_softmax(-1)  # (T - 1, B, V)
    features = output.features.double()  # (T - 1, B, H)
    total, count = 0.0, 0
    for b in range(streams.size(1)):
        for t in range(streams.size(0) - 1):
            target = int(streams[t + 1, b])
            p_model = math.exp(float(log_model[t, b, target]))
            entries = range(max(0, t - cache.window), t)  # the `window` positions before t
            if not entries:
                p = p_model  # an empty cache: the model alone
            else:
                weights = [math.exp(cache.theta * float(features[t, b] @ features[i, b])) for i in entries]
                hits = sum(w for w, i in zip(weights, entries) if int(streams[i + 1, b]) == target)
                p = (1 - cache.interpolation) * p_model + cache.interpolation * hits / sum(weights)
            total += -math.log(p) if p > 0 else math.inf
            count += 1
    return total / count


def test_lambda_zero_is_plain_evaluation():
    model, streams = tiny_model(), random_streams()
    cached = evaluate_with_cache(model, streams, bptt=5, cache=CacheConfig(window=4, theta=1.0, interpolation=0.0))
    plain = evaluate(model, streams, bptt=5)
    assert cached.tokens == plain.tokens == 28 * 3
    assert cached.loss == pytest.approx(plain.loss, rel=0, abs=1e-6)


@pytest.mark.parametrize(
    ("window", "theta", "interpolation"),
    [(6, 1.0, 0.3), (6, 3.0, 0.9), (40, 0.5, 0.1279)],  # 40 > T: nothing is ever evicted
)
def test_matches_the_reference_across_windows_and_evictions(window, theta, interpolation):
    # T - 1 = 28 predictions per stream in windows of 5 (the last one 3 long), three streams.
    model, streams = tiny_model(), random_streams()
    cache = CacheConfig(window=window, theta=theta, interpolation=interpolation)
    result = evaluate_with_cache(model, streams, bptt=5, cache=cache)
    assert result.tokens == 28 * 3
    assert result.loss == pytest.approx(reference_loss(model, streams, cache), rel=1e-5)


def test_bptt_changes_nothing():
    model, streams = tiny_model(), random_streams()
    cache = CacheConfig(window=7, theta=2.0, interpolation=0.5)
    losses = [evaluate_with_cache(model, streams, bptt, cache).loss for bptt in (1, 3, 7, 28, 100)]
    assert losses == pytest.approx([losses[0]] * len(losses), rel=1e-6)


def test_the_window_limits_what_is_remembered():
    model, streams = tiny_model(), random_streams()
    short, long = (CacheConfig(window=w, theta=2.0, interpolation=0.5) for w in (1, 12))
    short_loss = evaluate_with_cache(model, streams, bptt=4, cache=short).loss
    long_loss = evaluate_with_cache(model, streams, bptt=4, cache=long).loss
    assert short_loss == pytest.approx(reference_loss(model, streams, short), rel=1e-5)
    assert long_loss == pytest.approx(reference_loss(model, streams, long), rel=1e-5)
    assert abs(short_loss - long_loss) > 1e-2


class KnowsNothing(nn.Module):
    """Uniform next-token scores; its features are the one-hot current token: "what I just read"."""

    def forward(self, tokens, state=None, targets=None):
        logits = torch.zeros(*tokens.shape, VOCAB)  # (T, B, V)
        features = nn.functional.one_hot(tokens, VOCAB).float()  # (T, B, V)
        return LanguageModelOutput(logits, state, None, None, features)


def test_the_cache_copies_repeated_text():
    # A cycle of 9 distinct tokens: once it has been seen, the cached key that read the same
    # token holds the right next one. (An untrained LSTM's features are no such oracle: the dot
    # product favours long vectors over similar ones, and the cache can then hurt.)
    sequence = torch.tensor([3, 7, 1, 9, 4, 0, 8, 2, 5])
    streams = torch.stack([sequence.repeat(8), sequence.roll(4).repeat(8)], dim=1)  # (72, 2)
    cache = CacheConfig(window=50, theta=30.0, interpolation=0.9)
    result = evaluate_with_cache(KnowsNothing(), streams, bptt=10, cache=cache)
    # Per stream: the first prediction has an empty cache (the model alone, 1/11); the next 8
    # targets are not cached yet (0.1 / 11); the other 62 are, with weight ~1 (0.9 + 0.1 / 11).
    expected = (math.log(11) + 8 * math.log(110) - 62 * math.log(0.9 + 0.1 / 11)) / 71
    assert result.loss == pytest.approx(expected, rel=1e-6)
    assert result.loss < math.log(11) / 3  # the model alone: log(11) = 2.40


def test_lambda_one_uses_the_model_at_the_start_of_each_stream():
    # On constant streams every target after the first is in the cache, so with lambda = 1 the
    # cache predicts it with probability 1; the first prediction falls back to the model.
    streams = torch.tensor([[2, 5], [2, 5], [2, 5], [2, 5], [2, 5], [2, 5], [2, 5]])  # (7, 2)
    model = tiny_model()
    result = evaluate_with_cache(model, streams, bptt=3, cache=CacheConfig(window=2, theta=1.0, interpolation=1.0))
    with torch.no_grad():
        first = model(streams[:1], None).logits.log_softmax(-1)[0]  # (B, V)
    expected = -(first[0, 2] + first[1, 5]).item() / (6 * 2)
    assert math.isfinite(result.loss)
    assert result.loss == pytest.approx(expected, rel=1e-5)


def test_lambda_one_is_infinite_when_a_target_was_never_cached():
    streams = torch.tensor([[1], [2], [3]])  # 3 follows 2 but the cache holds only "2 follows 1"
    result = evaluate_with_cache(tiny_model(), streams, bptt=2, cache=CacheConfig(window=5, theta=1.0, interpolation=1))
    assert result.loss == math.inf


def test_the_model_is_evaluated_without_dropout_and_left_as_it_was():
    model, streams = tiny_model(dropout=0.5, dropout_between=0.5), random_streams()
    cache = CacheConfig(window=6, theta=1.0, interpolation=0.3)
    expected = reference_loss(model, streams, cache)  # the model is in eval mode
    model.train()
    assert evaluate_with_cache(model, streams, bptt=5, cache=cache).loss == pytest.approx(expected, rel=1e-5)
    assert model.training
    model.eval()
    evaluate_with_cache(model, streams, bptt=5, cache=cache)
    assert not model.training


def test_a_model_without_features_is_refused():
    class NoFeatures(nn.Module):
        def forward(self, tokens, state=None):
            return torch.zeros(*tokens.shape, VOCAB), state, None

    with pytest.raises(SeqlabError, match="features"):
        evaluate_with_cache(NoFeatures(), random_streams(), bptt=5, cache=CacheConfig(4, 1.0, 0.1))


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"window": 0}, "window"),
        ({"window": 2.5}, "window"),
        ({"window": True}, "window"),
        ({"theta": 0.0}, "theta"),
        ({"theta": -1.0}, "theta"),
        ({"theta": math.inf}, "theta"),
        ({"theta": math.nan}, "theta"),
        ({"interpolation": -0.1}, "interpolation"),
        ({"interpolation": 1.5}, "interpolation"),
        ({"interpolation": math.nan}, "interpolation"),
    ],
)
def test_config_rejects_bad_values(fields, named):
    with pytest.raises(SeqlabError, match=named):
        CacheConfig(**{"window": 500, "theta": 1.0, "interpolation": 0.1, **fields})


def test_config_accepts_the_papers_values():
    CacheConfig(window=500, theta=1.0, interpolation=0.1)  # PTB
    CacheConfig(window=3785, theta=0.662, interpolation=0.1279)  # WikiText-2
    CacheConfig(window=1, theta=1e-3, interpolation=0.0)
    CacheConfig(window=1, theta=1e-3, interpolation=1.0)
