"""An ensemble decodes as the mean of its members' next-token distributions, written out here per prefix."""

from __future__ import annotations

import doctest
import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

import seqlab.decode.ensemble
from seqlab.decode import BeamSearch, Ensemble, GreedySearch, search
from seqlab.errors import SeqlabError
from tests.decode.table_model import BOS, EOS, TableModel, brute_force

FIRST = {(): [0.0, 0.1, 0.5, 0.4, 0.0], (2,): [0.0, 0.3, 0.36, 0.34, 0.0], (3,): [0.0, 0.9, 0.05, 0.05, 0.0]}
SECOND = {(): [0.0, 0.2, 0.1, 0.3, 0.4], (2,): [0.0, 0.8, 0.1, 0.05, 0.05], (3,): [0.0, 0.7, 0.1, 0.1, 0.1],
          (4,): [0.0, 0.5, 0.5, 0.0, 0.0]}  # fmt: skip


class Member(nn.Module):
    """A :class:`TableModel` as a member: the source's first column names each row's table."""

    def __init__(self, tables) -> None:
        super().__init__()
        self.table = TableModel(tables)

    def start(self, source, lengths):
        return self.table.initial_state(source[:, 0].tolist())

    def step(self, tokens, state):
        return self.table.step(tokens, state)

    def reorder(self, state, order):
        return self.table.reorder(state, order)


class MeanOfTables:
    """The distribution the ensemble must give, as brute force reads it: the two tables averaged entry by entry."""

    def __init__(self, first: TableModel, second: TableModel) -> None:
        self.first, self.second = first, second

    def probability(self, sentence, prefix):
        pairs = zip(self.first.probability(sentence, prefix), self.second.probability(sentence, prefix))
        return [(p + q) / 2 for p, q in pairs]


def decode(model, sentences, policy, max_lengths, **options):
    source = torch.tensor(sentences).unsqueeze(1)  # (B, 1): each row names its table
    state = model.start(source, torch.ones(len(sentences), dtype=torch.long))
    return search(model, state, policy, bos=BOS, eos=EOS, max_lengths=torch.tensor(max_lengths), **options)


def test_a_step_gives_the_log_of_the_mean_of_the_members_probabilities():
    ensemble = Ensemble([Member([FIRST]), Member([SECOND])])
    state = ensemble.start(torch.tensor([[0], [0]]), torch.tensor([1, 1]))
    log_probs, state = ensemble.step(torch.tensor([BOS, BOS]), state)
    expected = [0.0, (0.1 + 0.2) / 2, (0.5 + 0.1) / 2, (0.4 + 0.3) / 2, (0.0 + 0.4) / 2]
    torch.testing.assert_close(log_probs.exp(), torch.tensor([expected, expected], dtype=torch.float64))
    state = ensemble.reorder(state, torch.tensor([1, 0, 0]))
    log_probs, _ = ensemble.step(torch.tensor([2, 2, 4]), state)  # prefixes (2,), (2,), (4,)
    after_2 = [0.0, (0.3 + 0.8) / 2, (0.36 + 0.1) / 2, (0.34 + 0.05) / 2, (0.0 + 0.05) / 2]
    torch.testing.assert_close(log_probs[0].exp(), torch.tensor(after_2, dtype=torch.float64))
    assert float(log_probs[2].exp()[EOS]) == pytest.approx((TableModel([FIRST]).probability(0, (4,))[EOS] + 0.5) / 2)


@pytest.mark.parametrize("stopping", ["count", "bound"])
def test_a_wide_beam_over_the_ensemble_finds_the_exact_n_best_of_the_averaged_tables(stopping):
    members = [Member([FIRST, {}]), Member([SECOND, {(): [0.0, 0.7, 0.1, 0.1, 0.1]}])]
    found = decode(Ensemble(members), [0, 1], BeamSearch(128), [4, 3], nbest=5, stopping=stopping)
    mean = MeanOfTables(members[0].table, members[1].table)
    for sentence, max_length in ((0, 4), (1, 3)):
        exact = brute_force(mean, sentence, max_length=max_length)[:5]
        got = [(h.log_prob, h.tokens, h.finished) for h in found[sentence]]
        assert [(tokens, finished) for _, tokens, finished in got] == [(w, f) for _, _, w, f in exact]
        torch.testing.assert_close([g[0] for g in got], [e[1] for e in exact], rtol=0, atol=1e-12)


def test_an_ensemble_of_one_model_or_of_a_model_with_itself_decodes_as_the_model():
    alone = decode(Member([FIRST, SECOND]), [0, 1], BeamSearch(3), [5, 5], nbest=3)
    for ensemble in (Ensemble([Member([FIRST, SECOND])]), Ensemble([Member([FIRST, SECOND])] * 2)):
        together = decode(ensemble, [0, 1], BeamSearch(3), [5, 5], nbest=3)
        assert [[h.tokens for h in hs] for hs in together] == [[h.tokens for h in hs] for hs in alone]
        torch.testing.assert_close([[h.log_prob for h in hs] for hs in together],
                                   [[h.log_prob for h in hs] for hs in alone], rtol=0, atol=1e-12)  # fmt: skip


def test_greedy_on_the_ensemble_follows_neither_member_alone():
    # FIRST alone starts with 2 (0.5), SECOND with 4 (0.4); their mean with 3 (0.35), then EOS (0.8).
    [[first]], [[second]] = (decode(Member([table]), [0], GreedySearch(), [1]) for table in (FIRST, SECOND))
    [[both]] = decode(Ensemble([Member([FIRST]), Member([SECOND])]), [0], GreedySearch(), [5])
    assert (first.tokens, second.tokens, both.tokens) == ([2], [4], [3])
    assert both.finished and both.log_prob == pytest.approx(math.log(0.35 * 0.8), abs=1e-12)


def test_forward_averages_the_members_probabilities_and_attention_when_all_have_some():
    class Forced(nn.Module):
        """The same distribution at every position; attention ``weight`` everywhere, or none."""

        def __init__(self, probabilities, weight):
            super().__init__()
            self.probabilities, self.weight = torch.tensor(probabilities), weight

        def forward(self, source, lengths, target_input):
            logits = self.probabilities.log().expand(*target_input.shape, -1)  # (B, T, V)
            shape = (*target_input.shape, source.size(1))  # (B, T, S)
            attention = None if self.weight is None else torch.full(shape, self.weight)
            return SimpleNamespace(logits=logits, attention=attention)

    source, lengths, target_input = torch.zeros(1, 3, dtype=torch.long), torch.tensor([3]), torch.zeros(1, 2).long()
    out = Ensemble([Forced([0.2, 0.8], 0.25), Forced([0.6, 0.4], 0.75)])(source, lengths, target_input)
    torch.testing.assert_close(out.logits.exp(), torch.tensor([0.4, 0.6]).expand(1, 2, 2))
    torch.testing.assert_close(out.attention, torch.full((1, 2, 3), 0.5))
    # A member without attention (Cho et al.'s decoder): no map could be the ensemble's.
    out = Ensemble([Forced([0.2, 0.8], 0.25), Forced([0.6, 0.4], 0.75), Forced([0.4, 0.6], None)])(
        source, lengths, target_input
    )
    torch.testing.assert_close(out.logits.exp(), torch.tensor([0.4, 0.6]).expand(1, 2, 2))
    assert out.attention is None


def test_an_empty_ensemble_is_refused():
    with pytest.raises(SeqlabError, match="at least one model"):
        Ensemble([])


def test_docstring_example():
    result = doctest.testmod(seqlab.decode.ensemble)
    assert result.attempted > 0 and result.failed == 0
