"""The nonlinearities: values at known points, no overflow, derivatives from outputs."""

import warnings

import numpy as np
import pytest

from seqlab.reference import NONLINEARITIES, numerical_gradient, sigmoid, sigmoid_grad


@pytest.mark.parametrize(
    "x, expected",
    [
        (0.0, 0.5),
        (np.log(3.0), 0.75),
        (-np.log(3.0), 0.25),
        (1000.0, 1.0),
        (-1000.0, 0.0),  # 1 / (1 + e^1000) would overflow
        (-745.0, np.exp(-745.0)),  # still resolved down to the smallest subnormal
    ],
)
def test_sigmoid_values_without_overflow(x, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        value = sigmoid(np.array(x))

    assert value == pytest.approx(expected, rel=1e-15, abs=0)


@pytest.mark.parametrize(
    "function, derivative",
    [(sigmoid, sigmoid_grad), *NONLINEARITIES.values()],
    ids=["sigmoid", *NONLINEARITIES],
)
def test_derivative_from_output_matches_central_differences(function, derivative):
    # Away from relu's kink at 0, where no difference formula applies.
    x = np.array([-2.5, -0.7, 0.4, 1.9])

    numerical = numerical_gradient(lambda: float(np.sum(function(x))), x)

    np.testing.assert_allclose(derivative(function(x)), numerical, rtol=1e-9, atol=0)


def test_relu_derivative_at_zero_is_zero_like_torch():
    assert NONLINEARITIES["relu"][1](np.array([0.0])) == 0.0
