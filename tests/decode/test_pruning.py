"""Beam search with Freitag & Al-Onaizan's (2017) thresholds: which candidates go; the model steps fewer rows."""

from __future__ import annotations

import math

import pytest

from seqlab.decode import BeamSearch, GreedySearch
from seqlab.errors import SeqlabError
from tests.decode.table_model import EOS, TableModel
from tests.decode.test_beam_search import GREEDY_TRAP, as_tuples, run

# After BOS: word 2 (0.6), word 3 (0.3), word 4 (0.06), EOS (0.04).
FIRST = {(): [0.0, 0.04, 0.6, 0.3, 0.06]}
LENGTHS = dict(max_lengths=[5, 4, 6, 5], min_lengths=[1, 0, 2, 0])


@pytest.mark.parametrize("alpha", [0.0, 0.8])
def test_thresholds_that_never_bind_change_nothing(alpha):
    sentences = [0, 1, 2, 3]
    plain, loose = TableModel([{}, GREEDY_TRAP, FIRST, {}]), TableModel([{}, GREEDY_TRAP, FIRST, {}])
    expected = run(plain, sentences, BeamSearch(4), nbest=3, alpha=alpha, **LENGTHS)
    found = run(loose, sentences, BeamSearch(4, relative_threshold=1e-300, absolute_threshold=1e9), nbest=3,
                alpha=alpha, **LENGTHS)  # fmt: skip
    assert [as_tuples(h) for h in found] == [as_tuples(h) for h in expected]
    assert loose.rows_per_step == plain.rows_per_step


@pytest.mark.parametrize(
    ("thresholds", "kept"),
    [
        # rp: P <= rp * 0.6 goes. 0.4 * 0.6 = 0.24 keeps 2 and 3; 0.05 * 0.6 = 0.03 keeps all four.
        (dict(relative_threshold=0.4), [2, 3]),
        (dict(relative_threshold=0.05), [2, 3, 4, EOS]),
        # ap: log P <= log 0.6 - ap goes. ln(0.6 / 0.06) = 2.303 lies between ap 2.2 and 2.4.
        (dict(absolute_threshold=2.2), [2, 3]),
        (dict(absolute_threshold=2.4), [2, 3, 4]),
        (dict(relative_threshold=0.05, absolute_threshold=2.2), [2, 3]),  # both apply: the stricter wins
    ],
)
def test_a_candidate_goes_when_it_trails_the_best_by_more_than_a_threshold(thresholds, kept):
    model = TableModel([FIRST])
    found = run(model, [0], BeamSearch(4, **thresholds), max_lengths=[1], nbest=4)[0]
    # One step: the kept words are cut at the maximum length, a kept EOS is finished; nothing else is returned.
    assert sorted(EOS if h.finished else h.tokens[0] for h in found) == sorted(kept)
    for hypothesis in found:
        word = EOS if hypothesis.finished else hypothesis.tokens[0]
        assert hypothesis.log_prob == pytest.approx(math.log(FIRST[()][word]), abs=1e-12)


def test_the_model_steps_only_the_rows_that_remain():
    plain, pruned = TableModel([FIRST]), TableModel([FIRST])
    run(plain, [0], BeamSearch(4), max_lengths=[3])
    run(pruned, [0], BeamSearch(4, relative_threshold=0.4), max_lengths=[3])
    assert plain.rows_per_step[:2] == [1, 3]  # EOS finished: three live words in four slots, the empty one not stepped
    assert pruned.rows_per_step[:2] == [1, 2]  # words 2 and 3 survive the first step
    assert sum(pruned.rows_per_step) < sum(plain.rows_per_step)


@pytest.mark.parametrize("thresholds", [dict(relative_threshold=1.0), dict(absolute_threshold=1e-12)])
def test_keeping_only_the_best_candidate_is_greedy_search(thresholds):
    model = TableModel([{}, GREEDY_TRAP, FIRST, {}])
    greedy = run(model, [0, 1, 2, 3], GreedySearch(), **LENGTHS)
    pruned = run(model, [0, 1, 2, 3], BeamSearch(5, **thresholds), **LENGTHS)
    assert [as_tuples(h) for h in pruned] == [as_tuples(h) for h in greedy]


def test_a_pruned_batch_gives_what_each_sentence_gives_alone():
    # Sentences keep different numbers of rows from step to step, so the model's rows are packed unevenly.
    model = TableModel([{}, GREEDY_TRAP, FIRST, {}, {(): [0.0, 0.05, 0.9, 0.05, 0.0]}])
    policy = dict(relative_threshold=0.3, absolute_threshold=1.5)
    lengths = dict(max_lengths=[5, 3, 6, 4, 5], min_lengths=[1, 0, 2, 0, 0])
    batched = run(model, [0, 1, 2, 3, 4], BeamSearch(4, **policy), nbest=2, alpha=0.6, **lengths)
    for sentence in range(5):
        limits = dict(max_lengths=[lengths["max_lengths"][sentence]], min_lengths=[lengths["min_lengths"][sentence]])
        alone = run(model, [sentence], BeamSearch(4, **policy), nbest=2, alpha=0.6, **limits)
        assert as_tuples(alone[0]) == as_tuples(batched[sentence])


@pytest.mark.parametrize("thresholds", [dict(relative_threshold=0.0), dict(relative_threshold=1.5),
                                        dict(absolute_threshold=0.0), dict(absolute_threshold=-1.0)])  # fmt: skip
def test_thresholds_out_of_range_are_refused(thresholds):
    with pytest.raises(SeqlabError, match="threshold"):
        BeamSearch(4, **thresholds)
