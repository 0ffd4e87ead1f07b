"""SGD and global-norm clipping."""

import numpy as np
import pytest

from seqlab.errors import SeqlabError
from seqlab.reference import clip_grad_norm, global_grad_norm, sgd_step


def test_global_norm_treats_all_gradients_as_one_vector():
    grads = {"a": np.array([3.0]), "b": np.array([[4.0, 0.0]])}

    assert global_grad_norm(grads) == 5.0


@pytest.mark.parametrize(
    "max_norm, expected_scale",
    [
        (10.0, 1.0),  # below the limit: untouched
        (5.0, 5.0 / (5.0 + 1e-6)),  # at the limit: torch's epsilon shrinks it a hair
        (1.0, 1.0 / (5.0 + 1e-6)),  # above: scaled down to the limit
    ],
)
def test_clipping_scales_every_gradient_by_one_factor(max_norm, expected_scale):
    grads = {"a": np.array([3.0]), "b": np.array([4.0])}  # global norm 5

    clipped, norm = clip_grad_norm(grads, max_norm)

    assert norm == 5.0
    np.testing.assert_allclose(clipped["a"], 3.0 * expected_scale, rtol=1e-15, atol=0)
    np.testing.assert_allclose(clipped["b"], 4.0 * expected_scale, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(grads["a"], [3.0])  # the input is not changed


def test_clipping_needs_a_positive_limit():
    with pytest.raises(SeqlabError, match="max_norm"):
        clip_grad_norm({"a": np.ones(1)}, 0.0)


def test_sgd_updates_only_parameters_in_place():
    params = {"w": np.array([1.0, 2.0])}
    weights = params["w"]
    grads = {"w": np.array([0.5, -1.0]), "inputs": np.array([100.0])}

    norm = sgd_step(params, grads, learning_rate=0.1)

    assert params["w"] is weights
    np.testing.assert_allclose(params["w"], [0.95, 2.1], rtol=0, atol=1e-15)
    assert norm == pytest.approx(np.sqrt(1.25), abs=1e-15)  # "inputs" is not counted


def test_sgd_clips_before_stepping():
    params = {"w": np.zeros(2)}

    norm = sgd_step(params, {"w": np.array([30.0, 40.0])}, learning_rate=1.0, max_grad_norm=5.0)

    assert norm == 50.0
    np.testing.assert_allclose(params["w"], [-3.0, -4.0], rtol=1e-6, atol=0)
