"""The NumPy CRF reference against its definition: every one of the K^T tag paths enumerated.

The path score is written out here from Lample et al. (2016, §2.2), independently of the module:
s(X, y) = start[y_0] + Σ_t P[t, y_t] + Σ_{t≥1} A[y_{t-1}, y_t] + end[y_{T-1}]. From it, by
enumeration: log Z = log Σ_y exp s(X, y), the NLL, the marginals, the best path and the k best.

Tolerances: values against enumeration to 1e-12 absolute (the same sums in another order);
gradients to a relative error of 1e-7 per array (five-point differences at ε = 1e-3 are good to
about 1e-10, see ``seqlab.reference.gradcheck``).
"""

import doctest
import itertools
import math

import numpy as np
import pytest

import seqlab.reference.crf
from seqlab.errors import SeqlabError
from seqlab.reference import (
    crf_backward_algorithm,
    crf_forward_algorithm,
    crf_marginals,
    crf_nll,
    crf_nll_backward,
    crf_path_score,
    crf_viterbi,
    crf_viterbi_topk,
    gradient_check,
    init_crf_params,
)

VALUES = dict(rtol=0, atol=1e-12)
GRADIENT_ERROR = 1e-7
# (T, K): T = 1 (no transition at all) up to 5 words, K = 1 (a single path) up to 4 tags
SIZES = [(1, 3), (2, 2), (3, 3), (4, 2), (5, 3), (3, 4), (4, 1)]


def _setup(steps, num_tags, *, seed=0):
    """Scores of order 1, so that no path dominates and every term of every sum matters."""
    rng = np.random.default_rng(seed)
    params = {name: value * 10.0 for name, value in init_crf_params(num_tags, rng).items()}
    emissions = rng.normal(size=(steps, num_tags))
    return rng, params, emissions


def _score(params, emissions, path):
    """s(X, y), Lample et al. (2016, §2.2), term by term."""
    total = params["start_transitions"][path[0]] + params["end_transitions"][path[-1]]
    total += sum(emissions[t, tag] for t, tag in enumerate(path))
    total += sum(params["transitions"][path[t - 1], path[t]] for t in range(1, len(path)))
    return total


def _all_paths(params, emissions):
    """{path: s(X, path)} for every path with a finite score (a -inf score is a disallowed move)."""
    steps, num_tags = emissions.shape
    scores = {path: _score(params, emissions, path) for path in itertools.product(range(num_tags), repeat=steps)}
    return {path: score for path, score in scores.items() if score > -math.inf}


def _log_z(scores):
    top = max(scores.values())
    return top + math.log(sum(math.exp(score - top) for score in scores.values()))


def _forbid(params, transitions=(), starts=(), ends=()):
    """A copy of the parameters with -inf for the listed moves."""
    params = {name: value.copy() for name, value in params.items()}
    for i, j in transitions:
        params["transitions"][i, j] = -np.inf
    params["start_transitions"][list(starts)] = -np.inf
    params["end_transitions"][list(ends)] = -np.inf
    return params


def test_path_score_by_hand():
    # start (1, 0), end (0, 2), A = [[0, 3], [-1, 0]], P = [[5, 0], [0, 7]]; y = (0, 1): 1 + 5 + 3 + 7 + 2
    params = {
        "transitions": np.array([[0.0, 3.0], [-1.0, 0.0]]),
        "start_transitions": np.array([1.0, 0.0]),
        "end_transitions": np.array([0.0, 2.0]),
    }
    emissions = np.array([[5.0, 0.0], [0.0, 7.0]])

    assert crf_path_score(params, emissions, [0, 1]) == 18.0
    assert crf_path_score(params, emissions, [1, 0]) == 0.0 + 0.0 - 1.0 + 0.0 + 0.0
    assert crf_path_score(params, emissions[:1], [0]) == 1.0 + 5.0 + 0.0


@pytest.mark.parametrize(("steps", "num_tags"), SIZES)
def test_path_score_is_lamples_sum(steps, num_tags):
    _, params, emissions = _setup(steps, num_tags)

    for path in itertools.product(range(num_tags), repeat=steps):
        assert crf_path_score(params, emissions, path) == pytest.approx(_score(params, emissions, path), abs=1e-12)


@pytest.mark.parametrize(("steps", "num_tags"), SIZES)
def test_log_partition_sums_every_path(steps, num_tags):
    _, params, emissions = _setup(steps, num_tags)

    log_alpha, log_z = crf_forward_algorithm(params, emissions)

    assert log_alpha.shape == (steps, num_tags)
    np.testing.assert_allclose(log_z, _log_z(_all_paths(params, emissions)), **VALUES)


@pytest.mark.parametrize(("steps", "num_tags"), SIZES)
def test_forward_and_backward_messages_give_the_same_partition_at_every_word(steps, num_tags):
    _, params, emissions = _setup(steps, num_tags)

    log_alpha, log_z = crf_forward_algorithm(params, emissions)
    log_beta = crf_backward_algorithm(params, emissions)

    for t in range(steps):
        np.testing.assert_allclose(np.log(np.exp(log_alpha[t] + log_beta[t]).sum()), log_z, **VALUES)


@pytest.mark.parametrize(("steps", "num_tags"), SIZES)
def test_nll_is_minus_the_log_probability_of_the_path(steps, num_tags):
    rng, params, emissions = _setup(steps, num_tags)
    scores = _all_paths(params, emissions)
    tags = rng.integers(num_tags, size=steps)

    nll = crf_nll(params, emissions, tags)

    probability = math.exp(scores[tuple(tags)]) / sum(math.exp(score) for score in scores.values())
    np.testing.assert_allclose(nll, -math.log(probability), **VALUES)


@pytest.mark.parametrize(("steps", "num_tags"), SIZES)
def test_marginals_are_sums_of_path_probabilities(steps, num_tags):
    _, params, emissions = _setup(steps, num_tags)
    scores = _all_paths(params, emissions)
    log_z = _log_z(scores)
    expected_unary = np.zeros((steps, num_tags))
    expected_pairwise = np.zeros((steps - 1, num_tags, num_tags))
    for path, score in scores.items():
        probability = math.exp(score - log_z)
        for t, tag in enumerate(path):
            expected_unary[t, tag] += probability
            if t:
                expected_pairwise[t - 1, path[t - 1], tag] += probability

    unary, pairwise = crf_marginals(params, emissions)

    np.testing.assert_allclose(unary, expected_unary, **VALUES)
    np.testing.assert_allclose(pairwise, expected_pairwise, **VALUES)


@pytest.mark.parametrize(("steps", "num_tags"), [size for size in SIZES if size[1] > 1])
def test_every_gradient_matches_central_differences(steps, num_tags):
    rng, params, emissions = _setup(steps, num_tags)
    tags = rng.integers(num_tags, size=steps)
    arrays = {"emissions": emissions, **params}

    grads = crf_nll_backward(params, emissions, tags)
    errors = gradient_check(lambda: crf_nll(params, emissions, tags), arrays, grads)

    assert set(grads) == set(arrays)
    assert max(errors.values()) < GRADIENT_ERROR, errors


def test_one_tag_means_one_path_certain_nll_zero_and_no_gradient():
    _, params, emissions = _setup(4, 1)

    grads = crf_nll_backward(params, emissions, [0, 0, 0, 0])

    np.testing.assert_allclose(crf_nll(params, emissions, [0, 0, 0, 0]), 0.0, **VALUES)
    for name, grad in grads.items():
        np.testing.assert_allclose(grad, 0.0, **VALUES, err_msg=name)


def test_gradient_is_expected_minus_observed_counts():
    _, params, emissions = _setup(3, 2)
    tags = [1, 1, 0]
    unary, pairwise = crf_marginals(params, emissions)

    grads = crf_nll_backward(params, emissions, tags)

    observed = np.zeros((2, 2))
    observed[1, 1] = observed[1, 0] = 1.0  # the moves 1 -> 1 and 1 -> 0
    np.testing.assert_allclose(grads["transitions"], pairwise.sum(axis=0) - observed, **VALUES)
    np.testing.assert_allclose(grads["start_transitions"], unary[0] - [0.0, 1.0], **VALUES)
    np.testing.assert_allclose(grads["end_transitions"], unary[2] - [1.0, 0.0], **VALUES)
    np.testing.assert_allclose(grads["emissions"], unary - np.eye(2)[tags], **VALUES)
    # each word's emission gradient sums to 0: probabilities sum to 1, and one tag is observed
    np.testing.assert_allclose(grads["emissions"].sum(axis=1), 0.0, **VALUES)


@pytest.mark.parametrize(("steps", "num_tags"), SIZES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_viterbi_finds_the_best_path(steps, num_tags, seed):
    _, params, emissions = _setup(steps, num_tags, seed=seed)
    scores = _all_paths(params, emissions)
    best = max(scores, key=scores.get)

    path, score = crf_viterbi(params, emissions)

    assert tuple(path) == best
    np.testing.assert_allclose(score, scores[best], **VALUES)


@pytest.mark.parametrize(("steps", "num_tags"), SIZES)
@pytest.mark.parametrize("k", [1, 2, 5, 1000])
def test_topk_finds_the_k_best_paths_in_order(steps, num_tags, k):
    _, params, emissions = _setup(steps, num_tags, seed=k)
    scores = _all_paths(params, emissions)
    expected = sorted(scores, key=scores.get, reverse=True)[:k]  # all K^T of them when k > K^T

    paths = crf_viterbi_topk(params, emissions, k)

    assert [tuple(path) for path, _ in paths] == expected
    np.testing.assert_allclose([score for _, score in paths], [scores[path] for path in expected], **VALUES)


@pytest.mark.parametrize(("steps", "num_tags"), SIZES)
def test_topk_of_one_is_viterbi(steps, num_tags):
    _, params, emissions = _setup(steps, num_tags, seed=3)

    assert crf_viterbi_topk(params, emissions, 1) == [crf_viterbi(params, emissions)]


def test_disallowed_moves_are_absent_from_every_sum_and_every_decoded_path():
    _, params, emissions = _setup(4, 3, seed=4)
    forbidden = [(0, 2), (1, 1), (2, 0)]
    constrained = _forbid(params, transitions=forbidden, starts=[2], ends=[0])
    allowed = _all_paths(constrained, emissions)
    assert all(path[0] != 2 and path[-1] != 0 for path in allowed)

    _, log_z = crf_forward_algorithm(constrained, emissions)
    unary, pairwise = crf_marginals(constrained, emissions)
    best, _ = crf_viterbi(constrained, emissions)
    top = crf_viterbi_topk(constrained, emissions, 1000)

    np.testing.assert_allclose(log_z, _log_z(allowed), **VALUES)
    assert tuple(best) == max(allowed, key=allowed.get)
    assert [tuple(path) for path, _ in top] == sorted(allowed, key=allowed.get, reverse=True)
    for i, j in forbidden:
        assert np.all(pairwise[:, i, j] == 0.0)
    assert unary[0, 2] == 0.0 and unary[-1, 0] == 0.0
    np.testing.assert_allclose(unary.sum(axis=1), 1.0, **VALUES)


def test_gradient_with_disallowed_moves_is_zero_there_and_finite_everywhere():
    _, params, emissions = _setup(4, 3, seed=5)
    constrained = _forbid(params, transitions=[(0, 2), (2, 1)], ends=[1])

    grads = crf_nll_backward(constrained, emissions, [0, 1, 2, 2])

    assert all(np.all(np.isfinite(grad)) for grad in grads.values())
    assert grads["transitions"][0, 2] == 0.0 and grads["transitions"][2, 1] == 0.0
    assert grads["end_transitions"][1] == 0.0


def test_a_gold_path_with_a_disallowed_move_has_infinite_nll():
    _, params, emissions = _setup(3, 3)

    assert crf_nll(_forbid(params, transitions=[(1, 2)]), emissions, [0, 1, 2]) == math.inf


def test_a_sentence_without_allowed_paths():
    _, params, emissions = _setup(3, 2)
    constrained = _forbid(params, starts=[0], transitions=[(1, 0), (1, 1)])  # start in 1, then nowhere to go

    with np.errstate(all="raise"):  # -inf handled exactly: no NaN, no warning
        _, log_z = crf_forward_algorithm(constrained, emissions)

    assert log_z == -math.inf
    assert crf_viterbi(constrained, emissions) == ([], -math.inf)
    assert crf_viterbi_topk(constrained, emissions, 3) == []


def test_large_scores_do_not_overflow():
    # two tags, one word: log Z = log(e^1000 + e^999) = 1000 + log(1 + 1/e)
    params = {name: np.zeros_like(value) for name, value in init_crf_params(2, np.random.default_rng(0)).items()}
    emissions = np.array([[1000.0, 999.0]])

    _, log_z = crf_forward_algorithm(params, emissions)

    np.testing.assert_allclose(log_z, 1000.0 + math.log(1.0 + math.exp(-1.0)), rtol=0, atol=1e-12)


def test_bad_input_is_a_clear_error():
    _, params, emissions = _setup(3, 2)
    with pytest.raises(SeqlabError, match=r"emissions must be \(T, 2\) with T >= 1, got \(3, 3\)"):
        crf_viterbi(params, np.zeros((3, 3)))
    with pytest.raises(SeqlabError, match=r"emissions must be \(T, 2\) with T >= 1, got \(0, 2\)"):
        crf_forward_algorithm(params, np.zeros((0, 2)))
    with pytest.raises(SeqlabError, match=r"tags must be \(3,\), got \(2,\)"):
        crf_nll(params, emissions, [0, 1])
    with pytest.raises(SeqlabError, match=r"tags must lie in \[0, 2\), got 0..2"):
        crf_nll_backward(params, emissions, [0, 1, 2])
    with pytest.raises(SeqlabError, match="k must be at least 1, got 0"):
        crf_viterbi_topk(params, emissions, 0)


def test_docstring_example():
    result = doctest.testmod(seqlab.reference.crf)

    assert result.attempted > 0 and result.failed == 0
