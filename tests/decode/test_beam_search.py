"""Beam search against brute force on hand-written tables; greedy as beam 1; batched as one at a time."""

from __future__ import annotations

import math

import pytest
import torch

from seqlab.decode import BeamSearch, GreedySearch, search
from tests.decode.table_model import BOS, EOS, TableModel, brute_force

# Sentence 0: greedy takes 2 (0.5) then 2 (0.36), then must stop: P = 0.18. Beam 2 finds [3] with P = 0.36.
GREEDY_TRAP = {
    (): [0.0, 0.1, 0.5, 0.4, 0.0],
    (2,): [0.0, 0.3, 0.36, 0.34, 0.0],
    (2, 2): [0.0, 1.0, 0.0, 0.0, 0.0],
    (3,): [0.0, 0.9, 0.05, 0.05, 0.0],
}


def run(model, sentences, policy, *, max_lengths, min_lengths=None, **options):
    return search(
        model,
        model.initial_state(sentences),
        policy,
        bos=BOS,
        eos=EOS,
        max_lengths=torch.tensor(max_lengths),
        min_lengths=None if min_lengths is None else torch.tensor(min_lengths),
        **options,
    )


def as_tuples(hypotheses):
    return [(h.score, h.log_prob, h.tokens, h.finished) for h in hypotheses]


@pytest.mark.parametrize("stopping", ["count", "bound"])
@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.5])
def test_a_wide_beam_finds_the_exact_n_best_of_brute_force(alpha, stopping):
    # Three sentences with different tables and lengths; 128 beams exceed the 3^3 * 4 candidates of a step.
    model = TableModel([{}, GREEDY_TRAP, {(): [0.0, 0.6, 0.2, 0.1, 0.1]}])
    max_lengths, min_lengths = [4, 4, 3], [0, 1, 2]
    found = run(
        model, [0, 1, 2], BeamSearch(128), max_lengths=max_lengths, min_lengths=min_lengths,
        nbest=6, alpha=alpha, stopping=stopping,
    )  # fmt: skip
    for sentence in range(3):
        exact = brute_force(model, sentence, max_length=max_lengths[sentence], min_length=min_lengths[sentence],
                            alpha=alpha)[:6]  # fmt: skip
        got = as_tuples(found[sentence])
        assert [(tokens, finished) for _, _, tokens, finished in got] == [(w, f) for _, _, w, f in exact]
        torch.testing.assert_close([g[:2] for g in got], [e[:2] for e in exact], rtol=0, atol=1e-12)


def test_greedy_falls_into_the_trap_and_beam_2_does_not():
    model = TableModel([GREEDY_TRAP])
    [[greedy]] = run(model, [0], GreedySearch(), max_lengths=[5])
    [[beam]] = run(model, [0], BeamSearch(2), max_lengths=[5])
    assert (greedy.tokens, beam.tokens) == ([2, 2], [3])
    torch.testing.assert_close([greedy.log_prob, beam.log_prob], [math.log(0.5 * 0.36), math.log(0.4 * 0.9)],
                               rtol=0, atol=1e-12)  # fmt: skip


@pytest.mark.parametrize(("alpha", "stopping"), [(0.0, "count"), (0.0, "bound"), (1.0, "count")])
def test_beam_1_is_greedy_exactly(alpha, stopping):
    model = TableModel([{}, {}, GREEDY_TRAP, {}])
    options = dict(max_lengths=[6, 3, 5, 6], min_lengths=[0, 1, 0, 3], alpha=alpha, stopping=stopping)
    greedy = run(model, [0, 1, 2, 3], GreedySearch(), **options)
    beam = run(model, [0, 1, 2, 3], BeamSearch(1), **options)
    assert [as_tuples(h) for h in greedy] == [as_tuples(h) for h in beam]  # the same floats, not merely close


def test_greedy_takes_the_most_likely_token_at_each_step():
    model = TableModel([{}])
    [[greedy]] = run(model, [0], GreedySearch(), max_lengths=[8])
    prefix = ()
    for token in [*greedy.tokens, EOS] if greedy.finished else greedy.tokens:
        probabilities = model.probability(0, prefix)
        assert probabilities[token] == max(probabilities)
        prefix = (*prefix, token)


def test_a_batch_gives_what_each_sentence_gives_alone():
    model = TableModel([{}, GREEDY_TRAP, {}, {(): [0.0, 0.05, 0.9, 0.05, 0.0]}])
    options = dict(nbest=2, alpha=0.7)
    lengths = dict(max_lengths=[5, 3, 6, 4], min_lengths=[1, 0, 2, 0])
    batched = run(model, [0, 1, 2, 3], BeamSearch(3), **lengths, **options)
    for sentence in range(4):
        alone = run(model, [sentence], BeamSearch(3), max_lengths=[lengths["max_lengths"][sentence]],
                    min_lengths=[lengths["min_lengths"][sentence]], **options)  # fmt: skip
        assert as_tuples(alone[0]) == as_tuples(batched[sentence])


def test_finished_sentences_leave_the_batch():
    # Sentence 0 ends at once (EOS has probability 1); sentence 1 runs to its maximum of 4. The
    # first step runs one row per sentence (its K rows would be alike), then K rows each.
    model = TableModel([{(): [0.0, 1.0, 0.0, 0.0, 0.0]}, {}])
    run(model, [0, 1], BeamSearch(3), max_lengths=[4, 4], min_lengths=[0, 4])
    assert model.rows_per_step == [2, 3, 3, 3]


def test_the_bound_stops_when_no_live_beam_can_win_and_finds_the_same_best():
    # With alpha = 0 a live beam only loses probability: once [] (P 0.7) is finished, nothing can beat it.
    table = {(): [0.0, 0.7, 0.1, 0.1, 0.1]}
    count_model, bound_model = TableModel([table]), TableModel([table])
    [[by_count]] = run(count_model, [0], BeamSearch(4), max_lengths=[6], stopping="count")
    [[by_bound]] = run(bound_model, [0], BeamSearch(4), max_lengths=[6], stopping="bound")
    assert by_bound == by_count and by_bound.tokens == []
    assert len(bound_model.rows_per_step) == 1 < len(count_model.rows_per_step)


def test_n_best_lists_are_sorted_distinct_and_at_most_n():
    model = TableModel([{}, {}])
    found = run(model, [0, 1], BeamSearch(5), max_lengths=[5, 5], nbest=4, alpha=0.5)
    for hypotheses in found:
        assert len(hypotheses) == 4
        assert [h.score for h in hypotheses] == sorted((h.score for h in hypotheses), reverse=True)
        assert len({(tuple(h.tokens), h.finished) for h in hypotheses}) == 4
