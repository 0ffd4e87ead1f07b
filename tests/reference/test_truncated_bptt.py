"""Truncated BPTT(k): each loss term's gradient flows back at most k steps.

The definition (seqlab.reference.bptt): the contribution of ∂L_t/∂h_t reaches steps
t, t-1, ..., max(t-k+1, 0), and the initial state only when step 0 is among them; the
final-state gradient counts as part of L_{T-1}.
"""

import numpy as np
import pytest

from seqlab.errors import SeqlabError

from .cases import CELL_CASES, make_problem

STEPS = 5  # T of every problem here
# Truncated and full BPTT sum the same terms in a different order.
ROUNDING_TOLERANCE = 1e-12


def _state_entering(problem, step):
    """s_{step-1}: the state the full forward pass carries into ``step``."""
    if step == 0:
        return problem.state0
    _, state, _ = problem.case.forward(problem.params, problem.inputs[:step], problem.state0)
    return state


def _brute_force_truncated(problem, k):
    """The definition computed another way: for each t, the loss term L_t alone, by full
    BPTT over a fresh forward pass of only the k steps that end at t, started from the true
    state there; the results summed, input gradients put back in place."""
    case, steps = problem.case, problem.inputs.shape[0]
    grads = {name: np.zeros_like(array) for name, array in problem.arrays().items()}
    for t in range(steps):
        start = max(t - k + 1, 0)
        window_inputs = problem.inputs[start : t + 1].copy()  # (t+1-start, B, I)
        _, _, cache = case.forward(problem.params, window_inputs, _state_entering(problem, start))
        d_window = np.zeros((t + 1 - start,) + problem.d_outputs.shape[1:])
        d_window[-1] = problem.d_outputs[t]
        d_final = problem.d_final if t == steps - 1 else None
        term = case.backward(cache, d_window, d_final)
        for name in problem.params:
            grads[name] += term[name]
        grads["inputs"][start : t + 1] += term["inputs"]
        if start == 0:  # the window begins at the initial state, a leaf
            for name in case.state_names:
                grads[name] += term[name]
    return grads


def _detach_every_k(problem, k):
    """The torch recipe: cut the sequence into windows of k steps and run full BPTT inside
    each window, the state entering a window treated as a constant."""
    case, steps = problem.case, problem.inputs.shape[0]
    grads = {name: np.zeros_like(array) for name, array in problem.params.items()}
    for start in range(0, steps, k):
        end = min(start + k, steps)
        _, _, cache = case.forward(problem.params, problem.inputs[start:end].copy(), _state_entering(problem, start))
        d_final = problem.d_final if end == steps else None
        window = case.backward(cache, problem.d_outputs[start:end], d_final)
        for name in grads:
            grads[name] += window[name]
    return grads


def _truncated(problem, k):
    return problem.case.backward_truncated(problem.cache(), problem.d_outputs, k, problem.d_final)


def _full(problem):
    return problem.case.backward(problem.cache(), problem.d_outputs, problem.d_final)


@pytest.mark.parametrize("case", CELL_CASES, ids=lambda case: case.name)
@pytest.mark.parametrize("k", [STEPS, STEPS + 1, 100])
def test_k_at_least_T_is_full_bptt(case, k):
    problem = make_problem(case, seed=0, steps=STEPS)
    truncated, full = _truncated(problem, k), _full(problem)

    assert truncated.keys() == full.keys()
    for name in full:
        np.testing.assert_allclose(truncated[name], full[name], rtol=0, atol=ROUNDING_TOLERANCE, err_msg=name)


@pytest.mark.parametrize("case", CELL_CASES, ids=lambda case: case.name)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_small_k_matches_brute_force_definition(case, k):
    problem = make_problem(case, seed=1, steps=STEPS)
    truncated, expected = _truncated(problem, k), _brute_force_truncated(problem, k)

    assert truncated.keys() == expected.keys()
    for name in expected:
        np.testing.assert_allclose(truncated[name], expected[name], rtol=0, atol=ROUNDING_TOLERANCE, err_msg=name)


@pytest.mark.parametrize("case", CELL_CASES, ids=lambda case: case.name)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_small_k_differs_from_full_bptt(case, k):
    problem = make_problem(case, seed=2, steps=STEPS)
    truncated, full = _truncated(problem, k), _full(problem)

    # Each recurrent weight gradient loses terms of size ~1e-2 or more: far above rounding.
    assert not np.allclose(truncated["weight_hh"], full["weight_hh"], rtol=0, atol=1e-6)
    # Inputs of the last step are within reach of every loss term that reads them.
    np.testing.assert_allclose(truncated["inputs"][-1], full["inputs"][-1], rtol=0, atol=ROUNDING_TOLERANCE)


@pytest.mark.parametrize("case", CELL_CASES, ids=lambda case: case.name)
def test_initial_state_gets_only_the_terms_within_k_steps(case):
    k = 2
    problem = make_problem(case, seed=3, steps=STEPS)
    assert np.any(_truncated(problem, k)["h0"] != 0)

    problem.d_outputs[:k] = 0.0  # keep only loss terms k or more steps after step 0
    truncated = _truncated(problem, k)

    for name in case.state_names:
        np.testing.assert_array_equal(truncated[name], 0.0)


@pytest.mark.parametrize("case", CELL_CASES, ids=lambda case: case.name)
def test_is_not_detaching_the_state_every_k_steps(case):
    problem = make_problem(case, seed=4, steps=STEPS)

    # With k = 1 every loss term flows back one step under both rules...
    for name, grad in _detach_every_k(problem, 1).items():
        np.testing.assert_allclose(_truncated(problem, 1)[name], grad, rtol=0, atol=ROUNDING_TOLERANCE)
    # ...with k = 2 detaching gives the first term of each window only one step.
    detached, truncated = _detach_every_k(problem, 2), _truncated(problem, 2)
    assert not np.allclose(truncated["weight_hh"], detached["weight_hh"], rtol=0, atol=1e-6)


@pytest.mark.parametrize("k", [0, -1, 2.0, True])
def test_k_must_be_a_positive_integer(k):
    problem = make_problem(CELL_CASES[0])
    with pytest.raises(SeqlabError, match="truncation length k"):
        _truncated(problem, k)
