"""The numerical gradient check itself: exact on polynomials, restores what it perturbs,
and catches a wrong gradient."""

import numpy as np
import pytest

from seqlab.errors import SeqlabError
from seqlab.reference import gradient_check, numerical_gradient, relative_error


def test_five_point_difference_is_exact_on_quartics():
    x = np.array([0.3, -1.2, 2.0])

    grad = numerical_gradient(lambda: float(np.sum(x**4 - 2 * x**3 + x)), x, eps=1e-2)

    np.testing.assert_allclose(grad, 4 * x**3 - 6 * x**2 + 1, rtol=0, atol=1e-10)


def test_arrays_are_restored_exactly():
    x = np.random.default_rng(0).normal(size=(2, 3))
    original = x.copy()

    numerical_gradient(lambda: float(np.sum(np.sin(x))), x)

    np.testing.assert_array_equal(x, original)


@pytest.mark.parametrize(
    "analytic, numerical, expected",
    [
        ([1.0, 2.0], [1.0, 2.0], 0.0),
        ([0.0], [0.0], 0.0),  # 0/0 is read as agreement
        ([1.0], [-1.0], 1.0),  # opposite signs: the largest possible error
        ([0.0], [1e-12], 1.0),  # a gradient of exactly 0 against any nonzero estimate
        ([1.0, 100.0], [1.1, 100.0], 0.1 / 2.1),  # the worst entry counts
    ],
)
def test_relative_error_table(analytic, numerical, expected):
    error = relative_error(np.array(analytic), np.array(numerical))

    assert error == pytest.approx(expected, rel=1e-12, abs=0)


def test_gradient_check_reports_each_array_and_catches_a_wrong_one():
    rng = np.random.default_rng(1)
    arrays = {"a": rng.normal(size=3), "b": rng.normal(size=(2, 2))}

    def loss():
        return float(np.sum(arrays["a"] ** 2) + np.sum(np.tanh(arrays["b"])))

    analytic = {"a": 2 * arrays["a"], "b": 0.9 * (1 - np.tanh(arrays["b"]) ** 2)}  # b is wrong

    errors = gradient_check(loss, arrays, analytic)

    assert errors["a"] < 1e-10
    assert errors["b"] > 1e-2


def test_float32_and_missing_gradients_are_refused():
    with pytest.raises(SeqlabError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(2, dtype=np.float32))
    with pytest.raises(SeqlabError, match="no analytic gradient"):
        gradient_check(lambda: 0.0, {"a": np.zeros(1)}, {})
