"""Softmax cross-entropy and the output projection: values, stability and gradients."""

import numpy as np
import pytest

from seqlab.errors import SeqlabError
from seqlab.reference import (
    gradient_check,
    log_softmax,
    output_projection,
    output_projection_backward,
    softmax,
    softmax_cross_entropy,
)

RELATIVE_TOLERANCE = 1e-6  # gradient checks, largest entrywise relative error

LN2, LN3 = np.log(2.0), np.log(3.0)


@pytest.mark.parametrize(
    "logits, targets, expected",
    [
        ([[0.0, 0.0]], [0], LN2),  # two equal scores: log 2
        ([[5.0, 5.0, 5.0]], [2], LN3),  # a constant shift changes nothing
        ([[0.0, 0.0], [0.0, np.log(3.0)]], [0, 1], (LN2 + np.log(4 / 3)) / 2),  # mean of 2
        ([[1000.0, 0.0]], [0], 0.0),  # would overflow exp without the max shift
        ([[0.0, 1000.0]], [0], 1000.0),
        ([[[0.0, 0.0]], [[0.0, 0.0]]], [[1], [0]], LN2),  # (T, B, V) logits
    ],
)
def test_cross_entropy_values(logits, targets, expected):
    loss, _ = softmax_cross_entropy(np.array(logits), np.array(targets))

    assert loss == pytest.approx(expected, rel=0, abs=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_count():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    _, d_logits = softmax_cross_entropy(logits, np.array([2, 0]))

    expected = (softmax(logits) - np.array([[0, 0, 1], [1, 0, 0]])) / 2
    np.testing.assert_allclose(d_logits, expected, rtol=0, atol=1e-15)


def test_cross_entropy_gradient_matches_central_differences():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 3, 5))  # (T, B, V)
    targets = rng.integers(0, 5, size=(4, 3))
    _, d_logits = softmax_cross_entropy(logits, targets)

    errors = gradient_check(lambda: softmax_cross_entropy(logits, targets)[0], {"logits": logits}, {"logits": d_logits})

    assert errors["logits"] < RELATIVE_TOLERANCE


@pytest.mark.parametrize(
    "logits_shape, targets, message",
    [
        ((2, 3), [0, 1, 2], "do not match"),
        ((2, 3), [0, 3], r"\[0, 3\)"),
        ((2, 3), [-1, 0], r"\[0, 3\)"),
        ((0, 3), np.zeros(0, dtype=int), "zero tokens"),
    ],
)
def test_cross_entropy_rejects_bad_targets(logits_shape, targets, message):
    with pytest.raises(SeqlabError, match=message):
        softmax_cross_entropy(np.zeros(logits_shape), np.array(targets))


def test_softmax_rows_sum_to_one_even_for_huge_scores():
    logits = np.array([[1e4, -1e4, 0.0], [-800.0, -800.0, -801.0]])  # exp over/underflows

    probs = softmax(logits)

    np.testing.assert_allclose(log_softmax(logits)[0], [0.0, -2e4, -1e4], rtol=1e-15, atol=0)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(probs[1, 0], 1 / (2 + np.exp(-1)), rtol=1e-15, atol=0)


def test_output_projection_is_h_times_weight_transposed_plus_bias():
    hidden = np.array([[[1.0, 2.0]]])  # (T=1, B=1, H=2)
    weight_hy = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # (V=3, H=2)

    logits = output_projection(hidden, weight_hy, np.array([0.5, 0.0, -3.0]))

    np.testing.assert_array_equal(logits, [[[1.5, 2.0, 0.0]]])


def test_output_projection_backward_matches_central_differences():
    rng = np.random.default_rng(1)
    arrays = {
        "hidden": rng.normal(size=(4, 3, 6)),  # (T, B, H)
        "weight_hy": rng.normal(size=(5, 6)),  # (V, H)
        "bias_y": rng.normal(size=5),  # (V,)
    }
    d_logits = rng.normal(size=(4, 3, 5))  # the loss: Σ d_logits ⊙ logits

    def loss():
        return float(np.sum(d_logits * output_projection(**arrays)))

    d_hidden, d_weight_hy, d_bias_y = output_projection_backward(d_logits, arrays["hidden"], arrays["weight_hy"])
    analytic = {"hidden": d_hidden, "weight_hy": d_weight_hy, "bias_y": d_bias_y}

    errors = gradient_check(loss, arrays, analytic)

    assert max(errors.values()) < RELATIVE_TOLERANCE, errors
