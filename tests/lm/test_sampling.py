"""Sampling: temperature, top-k and top-p on hand-written scores; the generation loop."""

from __future__ import annotations

import pytest
import torch

from seqlab.data import CharVocab, WordVocab
from seqlab.decode import SamplingConfig, filter_logits, generate, sample_next
from seqlab.errors import SeqlabError
from seqlab.models import FixedWindowLanguageModel, FixedWindowLMConfig, RNNLanguageModel, RNNLMConfig

# Probabilities 0.5, 0.25, 0.15, 0.1 over four tokens, as logits.
TABLE = torch.log(torch.tensor([[0.5, 0.25, 0.15, 0.1]]))
NEG_INF = float("-inf")


def kept(logits: torch.Tensor) -> list[int]:
    return torch.isfinite(logits[0]).nonzero().flatten().tolist()


@pytest.mark.parametrize(
    ("config", "expected_kept"),
    [
        (SamplingConfig(temperature=1.0), [0, 1, 2, 3]),
        (SamplingConfig(temperature=1.0, top_k=1), [0]),
        (SamplingConfig(temperature=1.0, top_k=3), [0, 1, 2]),
        (SamplingConfig(temperature=1.0, top_k=10), [0, 1, 2, 3]),
        # top-p keeps the fewest most likely tokens whose mass reaches p.
        (SamplingConfig(temperature=1.0, top_p=0.5), [0]),
        (SamplingConfig(temperature=1.0, top_p=0.6), [0, 1]),
        (SamplingConfig(temperature=1.0, top_p=0.75), [0, 1]),
        (SamplingConfig(temperature=1.0, top_p=0.8), [0, 1, 2]),
        (SamplingConfig(temperature=1.0, top_p=1.0), [0, 1, 2, 3]),
        (SamplingConfig(temperature=1.0, top_k=3, top_p=0.95), [0, 1, 2]),
    ],
)
def test_filters_keep_the_expected_tokens(config, expected_kept):
    assert kept(filter_logits(TABLE, config)) == expected_kept


def test_top_p_works_in_vocabulary_order_not_sorted_order():
    shuffled = TABLE[:, [3, 1, 0, 2]]  # probabilities 0.1, 0.25, 0.5, 0.15
    assert kept(filter_logits(shuffled, SamplingConfig(top_p=0.6))) == [1, 2]


def test_banned_tokens_are_removed_before_top_k():
    logits = filter_logits(TABLE, SamplingConfig(top_k=1), banned_ids=[0])
    assert kept(logits) == [1]


def test_temperature_divides_the_logits():
    logits = filter_logits(TABLE, SamplingConfig(temperature=0.5))
    torch.testing.assert_close(logits, TABLE * 2, rtol=0, atol=1e-6)


def test_sampled_frequencies_follow_the_distribution():
    generator = torch.Generator().manual_seed(0)
    config = SamplingConfig(temperature=1.0)
    draws = sample_next(TABLE.expand(20_000, 4), config, generator=generator)
    frequencies = torch.bincount(draws, minlength=4).double() / draws.numel()
    torch.testing.assert_close(frequencies, TABLE.exp()[0].double(), rtol=0, atol=0.015)


@pytest.mark.parametrize("settings", [{"temperature": 0.0}, {"top_k": 0}, {"top_p": 0.0}, {"top_p": 1.5}])
def test_bad_settings_are_rejected(settings):
    with pytest.raises(SeqlabError):
        SamplingConfig(**settings)


@pytest.fixture
def model_and_vocab():
    vocab = CharVocab.from_text("abcdef \n")
    torch.manual_seed(0)
    model = RNNLanguageModel(RNNLMConfig(vocab_size=len(vocab), embedding_size=4, hidden_size=8))
    # Make <unk> by far the most likely next token everywhere: it must still never appear.
    with torch.no_grad():
        model.head.bias[vocab.unk_id] = 100.0
    return model, vocab


def test_generation_never_emits_unk(model_and_vocab):
    model, vocab = model_and_vocab
    text = generate(model, vocab, length=300, seed=0, sampling=SamplingConfig(temperature=2.0))
    assert len(text) == 300
    assert "<unk>" not in text
    assert set(text) <= set(vocab.chars)


def test_generation_is_reproducible_with_a_seed(model_and_vocab):
    model, vocab = model_and_vocab
    first = generate(model, vocab, prompt="ab", length=50, seed=7)
    assert generate(model, vocab, prompt="ab", length=50, seed=7) == first
    assert generate(model, vocab, prompt="ab", length=50, seed=8) != first


def test_generation_leaves_the_global_rng_alone(model_and_vocab):
    model, vocab = model_and_vocab
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    generate(model, vocab, length=20, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_top_k_one_is_greedy_decoding(model_and_vocab):
    model, vocab = model_and_vocab
    with torch.no_grad():
        model.head.bias[vocab.unk_id] = -100.0  # greedy below need not avoid <unk>
    text = generate(model, vocab, prompt="ab", length=30, seed=0, sampling=SamplingConfig(top_k=1))
    greedy, state = [], None
    tokens = torch.tensor(vocab.encode("ab")).unsqueeze(1)  # (P, 1)
    with torch.no_grad():
        for _ in range(30):
            logits, state = model(tokens, state)[:2]
            tokens = logits[-1].argmax(-1, keepdim=True)  # (1, 1)
            greedy.append(int(tokens))
    assert text == vocab.decode(greedy)


def test_an_empty_prompt_starts_after_a_line_break(model_and_vocab):
    model, vocab = model_and_vocab
    assert generate(model, vocab, length=20, seed=3) == generate(model, vocab, prompt="\n", length=20, seed=3)


def test_length_zero_generates_nothing(model_and_vocab):
    model, vocab = model_and_vocab
    assert generate(model, vocab, length=0, seed=0) == ""


@pytest.mark.parametrize("architecture", ["rnn", "fixed-window"])
def test_word_models_generate_words_and_line_breaks_never_unk(architecture):
    vocab = WordVocab.from_text("the cat sat on the mat\nthe dog ran\n")
    torch.manual_seed(0)
    if architecture == "rnn":
        model = RNNLanguageModel(RNNLMConfig(vocab_size=len(vocab), embedding_size=4, hidden_size=8))
    else:
        model = FixedWindowLanguageModel(FixedWindowLMConfig(vocab_size=len(vocab), context_size=3, hidden_size=8))
    with torch.no_grad():
        model.head.bias[vocab.unk_id] = 100.0
    text = generate(model, vocab, prompt="the cat", length=40, seed=0, sampling=SamplingConfig(temperature=2.0))
    words = text.split()
    assert len(words) + text.count("\n") == 40
    assert set(words) <= set(vocab.words)


def test_a_word_prompt_is_continued_on_its_line():
    vocab = WordVocab.from_text("the cat sat\n")
    assert vocab.encode_prompt("the cat") == [vocab.encode("the")[0], vocab.encode("cat")[0]]
    assert vocab.encode_prompt("the cat\n")[-1] == vocab.eos_id
    assert vocab.join("the cat", "sat\nthe") == "the cat sat\nthe"
    assert vocab.join("the cat\n", "the") == "the cat\nthe"
    assert CharVocab.from_text("ab").join("a", "b") == "ab"
