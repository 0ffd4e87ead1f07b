"""The NumPy attention reference: the equations of Bahdanau et al. (2015, A.1.2) and Luong et al.
(2015, eq. (8)) written out here with scalar loops, the hand-written backward against central
differences, and the mask.

Tolerances: forward values against the loops to 1e-13 absolute (the same sums in another order);
gradients to a relative error of 1e-7 per array (five-point differences at ε = 1e-3 are good to
about 1e-10, see ``seqlab.reference.gradcheck``).
"""

import doctest
import math

import numpy as np
import pytest

import seqlab.reference.attention
from seqlab.errors import SeqlabError
from seqlab.reference import (
    ATTENTION_SCORES,
    attention_backward,
    attention_forward,
    gradient_check,
    init_attention_params,
)

B, S, Q, K, A = 3, 5, 4, 6, 7
MASK = np.array(
    [
        [True, True, True, True, True],
        [True, True, True, False, False],
        [True, False, False, False, False],
    ]
)
# (score, bias): every score, and additive with and without its bias
CONFIGS = [("additive", True), ("additive", False), ("dot", True), ("general", True), ("concat", True)]
VALUES = dict(rtol=0, atol=1e-13)
GRADIENT_ERROR = 1e-7


def _setup(score, bias, *, seed=0):
    rng = np.random.default_rng(seed)
    query_size = K if score == "dot" else Q
    params = init_attention_params(score, query_size, K, rng, hidden_size=A, bias=bias)
    params = {name: value * 2.0 for name, value in params.items()}  # scores of order 1, not 0.1
    query = rng.normal(size=(B, query_size))
    keys = rng.normal(size=(B, S, K))
    return rng, params, query, keys


def _score_by_loops(score, params, q, h):
    """e for one query q and one key h, entry by entry, as the papers write it."""
    if score == "dot":
        return sum(q[i] * h[i] for i in range(len(q)))
    if score == "general":
        w = params["key_proj.weight"]
        return sum(q[i] * w[i, k] * h[k] for i in range(len(q)) for k in range(len(h)))
    # additive: v_aᵀ tanh(W_a q + U_a h + b); concat: v_aᵀ tanh(W_a [q; h]) with W_a = [W_q | W_k]
    w_q, w_k, v = params["query_proj.weight"], params["key_proj.weight"], params["v"]
    bias = params.get("key_proj.bias", np.zeros(len(v)))
    concatenated = list(q) + list(h)
    w_a = np.concatenate([w_q, w_k], axis=1)
    total = 0.0
    for a in range(len(v)):
        pre = sum(w_a[a, i] * concatenated[i] for i in range(len(concatenated))) + bias[a]
        total += v[a] * math.tanh(pre)
    return total


def _attention_by_loops(score, params, query, keys, mask):
    """context and weights by the equations, one sentence and one position at a time."""
    batch, length, key_size = keys.shape
    context, weights = np.zeros((batch, key_size)), np.zeros((batch, length))
    for b in range(batch):
        real = [j for j in range(length) if mask[b, j]]
        scores = {j: _score_by_loops(score, params, query[b], keys[b, j]) for j in real}
        denominator = sum(math.exp(scores[j]) for j in real)
        for j in real:
            weights[b, j] = math.exp(scores[j]) / denominator
            context[b] += weights[b, j] * keys[b, j]
    return context, weights


@pytest.mark.parametrize(("score", "bias"), CONFIGS)
def test_forward_follows_the_equations(score, bias):
    _, params, query, keys = _setup(score, bias)

    context, weights, _ = attention_forward(params, query, keys, MASK, score=score)

    expected_context, expected_weights = _attention_by_loops(score, params, query, keys, MASK)
    np.testing.assert_allclose(weights, expected_weights, **VALUES)
    np.testing.assert_allclose(context, expected_context, **VALUES)


def test_dot_attention_by_hand():
    # scores qᵀh_j = 1, 0 and (padding) 2: α = (e, 1, 0) / (e + 1), c = α_0 h_0 + α_1 h_1
    query = np.array([[1.0, 0.0]])
    keys = np.array([[[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]]])
    mask = np.array([[True, True, False]])

    context, weights, _ = attention_forward({}, query, keys, mask, score="dot")

    e = math.e
    np.testing.assert_allclose(weights, [[e / (e + 1), 1 / (e + 1), 0.0]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(context, [[e / (e + 1), 1 / (e + 1)]], rtol=0, atol=1e-15)


def test_general_attention_by_hand():
    # W_a = [[0, 2], [1, 0]]: W_a h_0 = (0, 1), W_a h_1 = (2, 0); q = (1, 1) gives scores 1 and 2
    params = {"key_proj.weight": np.array([[0.0, 2.0], [1.0, 0.0]])}
    query = np.array([[1.0, 1.0]])
    keys = np.array([[[1.0, 0.0], [0.0, 1.0]]])

    context, weights, _ = attention_forward(params, query, keys, score="general")

    first = 1 / (1 + math.e)  # e¹ / (e¹ + e²)
    np.testing.assert_allclose(weights, [[first, 1 - first]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(context, [[first, 1 - first]], rtol=0, atol=1e-15)


def test_additive_attention_by_hand():
    # A = 1: e_j = v tanh(w q + u h_j + b) = 2 tanh(0.5 + h_j - 0.5) = 2 tanh(h_j) for scalar keys
    params = {
        "query_proj.weight": np.array([[0.5]]),
        "key_proj.weight": np.array([[1.0]]),
        "key_proj.bias": np.array([-0.5]),
        "v": np.array([2.0]),
    }
    query = np.array([[1.0]])
    keys = np.array([[[0.0], [1.0], [-3.0]]])

    context, weights, _ = attention_forward(params, query, keys, score="additive")

    exps = [math.exp(2 * math.tanh(h)) for h in (0.0, 1.0, -3.0)]
    expected = [x / sum(exps) for x in exps]
    np.testing.assert_allclose(weights, [expected], rtol=0, atol=1e-15)
    np.testing.assert_allclose(context, [[expected[1] - 3 * expected[2]]], rtol=0, atol=1e-15)


def _loss_and_gradients(score, bias, *, with_weights):
    rng, params, query, keys = _setup(score, bias)
    d_context = rng.normal(size=(B, K))
    d_weights = rng.normal(size=(B, S)) if with_weights else None

    def loss():
        context, weights, _ = attention_forward(params, query, keys, MASK, score=score)
        total = np.sum(d_context * context)
        return float(total + (np.sum(d_weights * weights) if with_weights else 0.0))

    _, _, cache = attention_forward(params, query, keys, MASK, score=score)
    grads = attention_backward(cache, d_context, d_weights)
    return loss, {**params, "query": query, "keys": keys}, grads


@pytest.mark.parametrize("with_weights", [False, True], ids=["context", "context_and_weights"])
@pytest.mark.parametrize(("score", "bias"), CONFIGS)
def test_every_gradient_matches_central_differences(score, bias, with_weights):
    loss, arrays, grads = _loss_and_gradients(score, bias, with_weights=with_weights)

    errors = gradient_check(loss, arrays, grads)

    assert set(grads) == set(arrays)
    assert max(errors.values()) < GRADIENT_ERROR, errors


@pytest.mark.parametrize(("score", "bias"), CONFIGS)
def test_padding_gets_zero_weight_and_no_gradient(score, bias):
    rng, params, query, keys = _setup(score, bias)

    context, weights, cache = attention_forward(params, query, keys, MASK, score=score)
    grads = attention_backward(cache, rng.normal(size=(B, K)), rng.normal(size=(B, S)))

    assert np.all(weights[~MASK] == 0.0)
    assert np.all(grads["keys"][~MASK] == 0.0)
    assert np.all(weights[MASK] > 0.0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=0, atol=1e-15)


@pytest.mark.parametrize(("score", "bias"), CONFIGS)
def test_changing_padded_keys_changes_nothing(score, bias):
    rng, params, query, keys = _setup(score, bias)
    d_context = rng.normal(size=(B, K))
    other_keys = keys.copy()
    other_keys[~MASK] = rng.normal(size=(int((~MASK).sum()), K)) * 100.0

    context, weights, cache = attention_forward(params, query, keys, MASK, score=score)
    other_context, other_weights, other_cache = attention_forward(params, query, other_keys, MASK, score=score)

    grads, other_grads = attention_backward(cache, d_context), attention_backward(other_cache, d_context)
    np.testing.assert_array_equal(other_weights, weights)
    np.testing.assert_array_equal(other_context, context)
    for name in grads:
        np.testing.assert_array_equal(other_grads[name], grads[name], err_msg=name)


@pytest.mark.parametrize(("score", "bias"), CONFIGS)
def test_no_mask_means_every_position_is_real(score, bias):
    _, params, query, keys = _setup(score, bias)

    unmasked = attention_forward(params, query, keys, score=score)
    all_real = attention_forward(params, query, keys, np.ones((B, S), dtype=bool), score=score)

    np.testing.assert_array_equal(unmasked[0], all_real[0])
    np.testing.assert_array_equal(unmasked[1], all_real[1])


@pytest.mark.parametrize(("score", "bias"), CONFIGS)
def test_a_row_without_real_positions_is_zero_not_nan(score, bias):
    rng, params, query, keys = _setup(score, bias)
    mask = MASK.copy()
    mask[1] = False

    context, weights, cache = attention_forward(params, query, keys, mask, score=score)
    grads = attention_backward(cache, rng.normal(size=(B, K)), rng.normal(size=(B, S)))

    assert np.all(weights[1] == 0.0) and np.all(context[1] == 0.0)
    assert np.all(grads["query"][1] == 0.0) and np.all(grads["keys"][1] == 0.0)
    assert all(np.all(np.isfinite(g)) for g in grads.values())
    expected_context, _ = _attention_by_loops(score, params, query, keys, MASK)
    np.testing.assert_allclose(context[[0, 2]], expected_context[[0, 2]], **VALUES)


def test_large_scores_do_not_overflow():
    query = np.array([[1000.0, 0.0]])
    keys = np.array([[[1.0, 0.0], [0.999, 0.0], [-1.0, 0.0]]])  # scores 1000, 999, -1000

    _, weights, _ = attention_forward({}, query, keys, score="dot")

    np.testing.assert_allclose(weights, [[1 / (1 + math.exp(-1)), 1 / (1 + math.e), 0.0]], rtol=0, atol=1e-15)


def test_bad_input_is_a_clear_error():
    _, params, query, keys = _setup("general", True)
    with pytest.raises(SeqlabError, match="unknown attention score 'cosine'"):
        attention_forward(params, query, keys, score="cosine")
    with pytest.raises(SeqlabError, match="must be boolean"):
        attention_forward(params, query, keys, MASK.astype(int), score="general")
    with pytest.raises(SeqlabError, match=r"mask has shape \(3, 4\), expected \(3, 5\)"):
        attention_forward(params, query, keys, MASK[:, :4], score="general")
    with pytest.raises(SeqlabError, match="query"):
        attention_forward(params, query[:2], keys, score="general")
    with pytest.raises(SeqlabError, match="query_size == key_size, got 4 and 6"):
        init_attention_params("dot", Q, K, np.random.default_rng(0))
    with pytest.raises(SeqlabError, match="needs a hidden_size"):
        init_attention_params("concat", Q, K, np.random.default_rng(0))


def test_parameters_are_named_as_in_the_torch_modules():
    rng = np.random.default_rng(0)
    shapes = {
        score: {name: p.shape for name, p in init_attention_params(score, K, K, rng, hidden_size=A).items()}
        for score in ATTENTION_SCORES
    }

    assert shapes == {
        "additive": {"query_proj.weight": (A, K), "key_proj.weight": (A, K), "key_proj.bias": (A,), "v": (A,)},
        "dot": {},
        "general": {"key_proj.weight": (K, K)},
        "concat": {"query_proj.weight": (A, K), "key_proj.weight": (A, K), "v": (A,)},
    }


def test_docstring_example():
    result = doctest.testmod(seqlab.reference.attention)

    assert result.attempted > 0 and result.failed == 0
