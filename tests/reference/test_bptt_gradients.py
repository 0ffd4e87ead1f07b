"""Full BPTT of every cell against central differences, in float64.

The loss is L = Σ d_outputs ⊙ outputs + Σ d_final ⊙ final_state with fixed random weights,
so every parameter, the inputs and the initial state are checked, through both the output
gradient and the final-state gradient.
"""

import numpy as np
import pytest

from seqlab.reference import gradient_check

from .cases import CELL_CASES, make_problem

# Largest entrywise relative error |a - n| / (|a| + |n|) accepted, per array.
RELATIVE_TOLERANCE = 1e-6


def _loss_that_keeps_relu_pattern(problem):
    """The problem's loss, failing loudly if a perturbation flips any relu unit on or off:
    across relu's kink no difference formula approximates the derivative."""
    outputs, _, _ = problem.case.forward(problem.params, problem.inputs, problem.state0)
    pattern = outputs > 0  # (T, B, H)

    def loss():
        outputs, _, _ = problem.case.forward(problem.params, problem.inputs, problem.state0)
        assert np.array_equal(outputs > 0, pattern), "perturbation crossed relu's kink"
        return problem.loss()

    return loss


@pytest.mark.parametrize("case", CELL_CASES, ids=lambda case: case.name)
@pytest.mark.parametrize("seed", [0, 1])
def test_full_bptt_matches_central_differences(case, seed):
    problem = make_problem(case, seed)  # T=5, B=3, I=4, H=6
    grads = case.backward(problem.cache(), problem.d_outputs, problem.d_final)
    if case.name == "rnn_relu":
        loss, eps = _loss_that_keeps_relu_pattern(problem), 1e-5
    else:
        loss, eps = problem.loss, 1e-3

    errors = gradient_check(loss, problem.arrays(), grads, eps=eps)

    assert set(errors) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "inputs"} | set(case.state_names)
    assert max(errors.values()) < RELATIVE_TOLERANCE, errors


@pytest.mark.parametrize("case", CELL_CASES, ids=lambda case: case.name)
def test_without_final_state_gradient_only_outputs_count(case):
    problem = make_problem(case, seed=3)
    cache = problem.cache()
    no_final = tuple(np.zeros_like(d) for d in problem.d_final)

    omitted = case.backward(cache, problem.d_outputs, None)
    zeros = case.backward(cache, problem.d_outputs, no_final)

    for name in zeros:
        np.testing.assert_array_equal(omitted[name], zeros[name])


@pytest.mark.parametrize("case", CELL_CASES, ids=lambda case: case.name)
def test_gradient_shapes_match_what_they_differentiate(case):
    problem = make_problem(case, seed=4, steps=3, batch=2, input_size=5, hidden_size=7)
    grads = case.backward(problem.cache(), problem.d_outputs, problem.d_final)

    for name, array in problem.arrays().items():
        assert grads[name].shape == array.shape, name
