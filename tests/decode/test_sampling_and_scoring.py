"""Sampling through the loop; teacher-forced scores of given outputs; search error against model error."""

from __future__ import annotations

import math

import pytest
import torch

from seqlab.decode import (
    BeamSearch,
    GreedySearch,
    SamplingConfig,
    SamplingSearch,
    classify_errors,
    sequence_log_probs,
)
from seqlab.errors import SeqlabError
from tests.decode.table_model import BOS, EOS, EveryPrefix, TableModel, log_prob
from tests.decode.test_beam_search import as_tuples, run

FIRST = [0.0, 0.1, 0.5, 0.3, 0.1]


def test_one_seed_gives_the_same_samples_and_another_seed_others():
    model = TableModel([{}, {}])
    first = run(model, [0, 1], SamplingSearch(SamplingConfig(temperature=1.0), num_samples=8, seed=3),
                max_lengths=[6, 6], nbest=8)  # fmt: skip
    again = run(model, [0, 1], SamplingSearch(SamplingConfig(temperature=1.0), num_samples=8, seed=3),
                max_lengths=[6, 6], nbest=8)  # fmt: skip
    other = run(model, [0, 1], SamplingSearch(SamplingConfig(temperature=1.0), num_samples=8, seed=4),
                max_lengths=[6, 6], nbest=8)  # fmt: skip
    assert [as_tuples(h) for h in first] == [as_tuples(h) for h in again] != [as_tuples(h) for h in other]


def test_sampling_with_top_k_1_is_greedy():
    model = TableModel([{}, {}, {}])
    options = dict(max_lengths=[6, 4, 6], min_lengths=[0, 2, 1])
    sampled = run(model, [0, 1, 2], SamplingSearch(SamplingConfig(temperature=0.5, top_k=1), seed=0), **options)
    greedy = run(model, [0, 1, 2], GreedySearch(), **options)
    assert [as_tuples(h) for h in sampled] == [as_tuples(h) for h in greedy]


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_first_tokens_follow_the_tempered_distribution(temperature):
    # 4,000 samples of one token (max length 1); tolerance 4 standard deviations of each frequency.
    model, draws = TableModel([EveryPrefix(FIRST)]), 4000
    found = run(model, [0], SamplingSearch(SamplingConfig(temperature=temperature), num_samples=draws, seed=1),
                max_lengths=[1], nbest=draws)  # fmt: skip
    first = [h.tokens[0] if h.tokens else EOS for h in found[0]]
    weights = [p ** (1 / temperature) for p in FIRST]
    for token, weight in enumerate(weights):
        p = weight / sum(weights)
        assert abs(first.count(token) / draws - p) <= 4 * math.sqrt(p * (1 - p) / draws) + 1e-12


def test_samples_are_scored_by_the_model_not_by_the_filtered_distribution():
    model = TableModel([{}])
    found = run(model, [0], SamplingSearch(SamplingConfig(temperature=0.3, top_p=0.8), num_samples=6, seed=2),
                max_lengths=[5], nbest=6)  # fmt: skip
    for h in found[0]:
        assert h.log_prob == pytest.approx(log_prob(model, 0, tuple(h.tokens), finished=h.finished), abs=1e-12)


def test_sequence_log_probs_is_the_product_of_the_table_probabilities():
    model = TableModel([{}, {}, {(): FIRST}])
    targets, ended = [[2, 3, 4], [], [3, 3]], [True, True, False]
    scores = sequence_log_probs(model, model.initial_state([0, 1, 2]), targets, bos=BOS, eos=EOS, ended=ended)
    expected = [log_prob(model, s, tuple(t), finished=e) for s, (t, e) in enumerate(zip(targets, ended))]
    torch.testing.assert_close(scores.tolist(), expected, rtol=0, atol=1e-12)
    assert expected[1] == pytest.approx(math.log(model.probability(1, ())[EOS]), abs=1e-15)


def test_a_search_scores_its_hypotheses_as_teacher_forcing_does():
    model = TableModel([{}, {}])
    found = run(model, [0, 1], BeamSearch(4), max_lengths=[4, 3], nbest=4)
    for sentence, hypotheses in enumerate(found):
        state = model.initial_state([sentence] * len(hypotheses))
        scores = sequence_log_probs(model, state, [h.tokens for h in hypotheses], bos=BOS, eos=EOS,
                                    ended=[h.finished for h in hypotheses])  # fmt: skip
        assert scores.tolist() == [h.log_prob for h in hypotheses]  # the same sums in the same order: exact


def test_a_reference_the_model_prefers_is_a_search_error_and_ties_are_model_errors():
    assert classify_errors([-1.0, -2.0, -3.0], [-2.0, -1.0, -3.0]) == ["search error", "model error", "model error"]
    assert classify_errors(torch.tensor([-1.0]), torch.tensor([-1.05]), margin=0.1) == ["model error"]


def test_the_error_analysis_of_greedy_on_the_trap_is_a_search_error():
    trap = {(): [0.0, 0.1, 0.5, 0.4, 0.0], (2,): [0.0, 0.3, 0.36, 0.34, 0.0], (3,): [0.0, 0.9, 0.05, 0.05, 0.0]}
    trap[(2, 2)] = [0.0, 1.0, 0.0, 0.0, 0.0]
    model = TableModel([trap, trap])
    [[output], [same]] = run(model, [0, 1], GreedySearch(), max_lengths=[5, 5])
    references = [[3], [2, 3]]  # P = 0.36 (better than the output's 0.18), and P = 0.5 * 0.34 * p(EOS | 2 3)
    scores = sequence_log_probs(model, model.initial_state([0, 1]), references, bos=BOS, eos=EOS)
    assert classify_errors(scores, [output.log_prob, same.log_prob]) == ["search error", "model error"]


def test_bad_scoring_input_is_a_one_line_error():
    model = TableModel([{}])
    with pytest.raises(SeqlabError, match="one flag per target"):
        sequence_log_probs(model, model.initial_state([0]), [[2]], bos=BOS, eos=EOS, ended=[True, False])
    with pytest.raises(SeqlabError, match="2 reference scores and 1 output scores"):
        classify_errors([0.0, 1.0], [0.0])
