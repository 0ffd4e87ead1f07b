"""Minimum and maximum lengths, |Y| in the length penalty, no-repeat n-grams, and bad arguments."""

from __future__ import annotations

import random

import pytest
import torch

from seqlab.decode import BeamSearch, GreedySearch, repeated_ngram_mask, search
from seqlab.errors import SeqlabError
from tests.decode.table_model import BOS, EOS, EveryPrefix, TableModel, brute_force, has_repeated_ngram, log_prob
from tests.decode.test_beam_search import as_tuples, run

EOS_FIRST = {(): [0.0, 0.8, 0.1, 0.05, 0.05]}
NEVER_EOS = {(): [0.0, 0.0, 0.5, 0.3, 0.2]}


@pytest.mark.parametrize("min_length", [0, 1, 3])
def test_no_hypothesis_ends_before_the_minimum_length(min_length):
    model = TableModel([EOS_FIRST])
    found = run(model, [0], BeamSearch(4), max_lengths=[6], min_lengths=[min_length], nbest=4)
    assert all(len(h.tokens) >= min_length for h in found[0])
    assert (found[0][0].tokens == []) == (min_length == 0)


def test_hypotheses_still_live_at_the_maximum_length_are_cut_without_eos():
    model = TableModel([EveryPrefix(NEVER_EOS[()])])
    found = run(model, [0], BeamSearch(3), max_lengths=[2], nbest=3, alpha=0.8)
    assert found[0][0].tokens == [2, 2]  # P = 0.25; then [2, 3] and [3, 2] tie at 0.15
    assert sorted((h.tokens, h.finished) for h in found[0][1:]) == [([2, 3], False), ([3, 2], False)]
    for h in found[0]:
        expected = log_prob(model, 0, tuple(h.tokens), finished=False)
        assert h.log_prob == pytest.approx(expected, rel=0, abs=1e-12)
        assert h.score == pytest.approx(expected / ((5 + 2) ** 0.8 / 6**0.8), rel=0, abs=1e-12)  # |Y| = 2 words


def test_length_counts_eos_when_the_hypothesis_has_one():
    model = TableModel([{}])
    found = run(model, [0], BeamSearch(6), max_lengths=[4], nbest=6, alpha=1.3)
    assert {h.finished for h in found[0]} == {True, False}
    for h in found[0]:
        size = len(h.tokens) + (1 if h.finished else 0)
        assert size <= 4
        assert h.score == pytest.approx(h.log_prob / ((5 + size) ** 1.3 / (5 + 1) ** 1.3), rel=0, abs=1e-12)


def test_a_maximum_length_of_one_allows_only_eos_or_one_cut_word():
    model = TableModel([EOS_FIRST])
    found = run(model, [0], BeamSearch(4), max_lengths=[1], nbest=4)
    assert [(h.tokens, h.finished) for h in found[0]] == [([], True), ([2], False), ([3], False), ([4], False)]


@pytest.mark.parametrize("ngram_size", [1, 2, 3])
def test_the_repeat_mask_equals_a_loop_over_ngrams(ngram_size):
    rng = random.Random(ngram_size)
    histories = [[rng.randrange(4) for _ in range(7)] for _ in range(50)]
    mask = repeated_ngram_mask(torch.tensor(histories), ngram_size, 4)
    for row, history in enumerate(histories):
        seen = {tuple(history[i : i + ngram_size]) for i in range(len(history) - ngram_size + 1)}
        suffix = tuple(history[len(history) - ngram_size + 1 :])
        assert mask[row].tolist() == [(*suffix, token) in seen for token in range(4)]


@pytest.mark.parametrize("ngram_size", [1, 2])
def test_no_repeat_ngrams_against_brute_force(ngram_size):
    # The table loves "2 3 2 3 ...": without the ban the best output repeats the bigram (2, 3).
    loop = {(): [0.0, 0.01, 0.9, 0.05, 0.04], (2,): [0.0, 0.01, 0.04, 0.9, 0.05], (2, 3): [0.0, 0.01, 0.9, 0.05, 0.04]}
    loop[(2, 3, 2)] = [0.0, 0.01, 0.04, 0.9, 0.05]
    model = TableModel([loop, {}])
    plain = run(model, [0], GreedySearch(), max_lengths=[5])
    assert plain[0][0].tokens[:4] == [2, 3, 2, 3]
    found = run(model, [0, 1], BeamSearch(128), max_lengths=[5, 5], nbest=3, no_repeat_ngram_size=ngram_size)
    for sentence in range(2):
        exact = brute_force(model, sentence, max_length=5, no_repeat=ngram_size)[:3]
        assert [(t, f) for _, _, t, f in as_tuples(found[sentence])] == [(w, f) for _, _, w, f in exact]
        assert not any(has_repeated_ngram(tuple(h.tokens), ngram_size) for h in found[sentence])


def test_banned_tokens_never_appear():
    model = TableModel([{}, {}])
    found = run(model, [0, 1], BeamSearch(4), max_lengths=[5, 5], nbest=4, banned_ids=[2])
    assert all(2 not in h.tokens for hypotheses in found for h in hypotheses)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(max_lengths=torch.tensor([0])), "max_lengths must be at least 1"),
        (dict(max_lengths=torch.tensor([3]), min_lengths=torch.tensor([4])), "min_lengths must be between"),
        (dict(max_lengths=torch.tensor([3]), nbest=3), "nbest must be between 1 and the beam size 2"),
        (dict(max_lengths=torch.tensor([3]), alpha=-1.0), "alpha must not be negative"),
        (dict(max_lengths=torch.tensor([3]), stopping="never"), "stopping must be one of count, bound"),
        (dict(max_lengths=torch.tensor([3]), banned_ids=[7]), "banned id 7 is outside the model's vocabulary of 5"),
    ],
)
def test_bad_arguments_are_one_line_errors(options, message):
    model = TableModel([{}])
    with pytest.raises(SeqlabError, match=message):
        search(model, model.initial_state([0]), BeamSearch(2), bos=BOS, eos=EOS, **options)


def test_a_model_without_reorder_is_refused():
    with pytest.raises(SeqlabError, match="must have step"):
        search(object(), None, GreedySearch(), bos=BOS, eos=EOS, max_lengths=torch.tensor([3]))


class Recording(TableModel):
    """Keeps every output it returns, to see what the search did to them."""

    def __init__(self, tables) -> None:
        super().__init__(tables)
        self.outputs: list[torch.Tensor] = []

    def step(self, tokens, state):
        log_probs, state = super().step(tokens, state)
        self.outputs.append(log_probs)
        return log_probs, state


class Shared(TableModel):
    """Returns one row of log-probabilities expanded to every row: a view the search could not write into."""

    def step(self, tokens, state):
        log_probs, state = super().step(tokens, state)
        return log_probs[:1].expand(len(tokens), -1), state


def test_a_banned_token_is_written_into_the_model_s_own_output_and_an_expanded_view_is_refused():
    model = Recording([{}, {}])
    run(model, [0, 1], BeamSearch(2), max_lengths=[3, 3], banned_ids=[2])
    assert model.outputs and all(bool(torch.isneginf(output[:, 2]).all()) for output in model.outputs)
    shared = Shared([{}, {}])
    with pytest.raises(SeqlabError, match="model.step must return log-probabilities of their own"):
        search(shared, shared.initial_state([0, 1]), BeamSearch(2), bos=BOS, eos=EOS, max_lengths=torch.tensor([3, 3]))
