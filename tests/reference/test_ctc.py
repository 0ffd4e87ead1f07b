"""The NumPy CTC reference against its definition (every path enumerated) and against torch's ``ctc_loss``.

The definition is written out here from Graves et al. (2006, §3.1), independently of the module: a
path π of T frames has probability Π_t y^t_{π_t}; B merges each run of a symbol, then removes the
blanks; p(l|x) sums the paths with B(π) = l. From it, by enumeration of all K^T paths: the loss,
α_t(s) and β_t(s) as sums over partial paths (eq. 5 and 9's definitions), the posteriors q_t(k), and
the best single path of a labelling.

Tolerances: values against enumeration to 1e-12 absolute (the same sums in another order, in log
space against linear space); against torch's float64 ``ctc_loss`` to 1e-10 absolute for losses of
tens of nats and their gradients, and at 2,000 frames to 1e-13 relative on a loss of thousands of
nats (sums of 2,000 log-adds in another order) and 1e-9 absolute on the gradients (posteriors
exp(α + β - loss) whose exponents carry the loss's error of ~1e-11 nats); central differences to a
relative error of 1e-7 per array (five points at ε = 1e-3, see ``seqlab.reference.gradcheck``).
"""

import doctest
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import seqlab.reference.ctc
from seqlab.errors import SeqlabError
from seqlab.reference import (
    ctc_backward,
    ctc_best_path,
    ctc_collapse,
    ctc_extended_labels,
    ctc_forward,
    ctc_forward_backward,
    ctc_min_frames,
    gradient_check,
)

VALUES = dict(rtol=0, atol=1e-12)
TORCH = dict(rtol=0, atol=1e-10)
GRADIENT_ERROR = 1e-7
# (T, K, labels): repeats (1, 1) that need a blank between them, L = 0, L = T, K = 2 (one label)
CASES = [
    (1, 3, []),
    (1, 3, [2]),
    (3, 3, [1, 2]),
    (4, 3, [1, 1]),
    (5, 3, [2, 1, 2]),
    (4, 4, [3, 3, 1]),
    (5, 4, [1, 2, 3]),
    (4, 2, [1, 1]),
    (6, 3, [1, 1, 1]),
    (6, 3, []),
    (5, 4, [3, 1, 3, 2, 2]),  # impossible: 5 labels and 1 repeat need 6 frames
]
POSSIBLE = [case for case in CASES if case[0] >= ctc_min_frames(case[2])]


def _log_probs(steps, num_symbols, *, seed=0, scale=1.5):
    """Rows of a log-softmax of scores of order 1, so that no path dominates."""
    logits = np.random.default_rng(seed).normal(scale=scale, size=(steps, num_symbols))
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def _collapse(path, blank=0):
    """B of §3.1, written out: keep a symbol when it differs from the one before it, then drop the blanks."""
    kept = [symbol for t, symbol in enumerate(path) if t == 0 or path[t - 1] != symbol]
    return tuple(symbol for symbol in kept if symbol != blank)


def _paths(log_probs, blank=0):
    """{path: p(π|x)} over all K^T paths, p(π|x) = Π_t y^t_{π_t}."""
    steps, num_symbols = log_probs.shape
    return {
        path: math.exp(sum(log_probs[t, symbol] for t, symbol in enumerate(path)))
        for path in itertools.product(range(num_symbols), repeat=steps)
    }


def _brute_force_loss(log_probs, labels, blank=0):
    total = sum(p for path, p in _paths(log_probs, blank).items() if _collapse(path, blank) == tuple(labels))
    return math.inf if total == 0.0 else -math.log(total)


def _state_of(prefix, labels, blank=0):
    """The state s of l' that a partial path from frame 0 ends in, or None when it leaves the labelling."""
    done = _collapse(prefix, blank)
    if tuple(labels[: len(done)]) != done:
        return None
    return 2 * len(done) if prefix[-1] == blank else 2 * len(done) - 1


@pytest.mark.parametrize(("steps", "num_symbols", "labels"), CASES)
def test_loss_sums_every_path_that_collapses_to_the_labels(steps, num_symbols, labels):
    log_probs = _log_probs(steps, num_symbols)

    result = ctc_forward_backward(log_probs, labels)
    _, log_p = ctc_forward(log_probs, labels)

    expected = _brute_force_loss(log_probs, labels)
    assert (result.loss == math.inf) == (expected == math.inf) == (steps < ctc_min_frames(labels))
    np.testing.assert_allclose(result.loss, expected, **VALUES)
    np.testing.assert_allclose(-log_p, expected, **VALUES)


@pytest.mark.parametrize(("steps", "num_symbols", "labels"), CASES)
def test_alpha_and_beta_are_sums_over_partial_paths(steps, num_symbols, labels):
    log_probs = _log_probs(steps, num_symbols, seed=1)
    extended, states = ctc_extended_labels(labels), 2 * len(labels) + 1
    alpha, beta = np.zeros((steps, states)), np.zeros((steps, states))
    for t in range(steps):
        for head in itertools.product(range(num_symbols), repeat=t + 1):  # frames 0..t
            state = _state_of(head, labels)
            if state is not None:
                alpha[t, state] += math.exp(sum(log_probs[u, k] for u, k in enumerate(head)))
        for tail in itertools.product(range(num_symbols), repeat=steps - t):  # frames t..T-1
            for state in range(states):  # the tails that start in state s and finish the labelling
                if tail[0] == extended[state] and _collapse(tail) == tuple(labels[state // 2 :]):
                    beta[t, state] += math.exp(sum(log_probs[t + u, k] for u, k in enumerate(tail)))

    log_alpha, _ = ctc_forward(log_probs, labels)
    log_beta = ctc_backward(log_probs, labels)

    np.testing.assert_allclose(np.exp(log_alpha), alpha, **VALUES)
    np.testing.assert_allclose(np.exp(log_beta), beta, **VALUES)


@pytest.mark.parametrize(("steps", "num_symbols", "labels"), POSSIBLE)
def test_every_frame_gives_the_same_probability_and_the_posteriors_of_enumeration(steps, num_symbols, labels):
    log_probs = _log_probs(steps, num_symbols, seed=2)
    extended = ctc_extended_labels(labels)
    expected_posterior = np.zeros((steps, num_symbols))
    total = 0.0
    for path, p in _paths(log_probs).items():
        if _collapse(path) == tuple(labels):
            total += p
            expected_posterior[np.arange(steps), path] += p

    result = ctc_forward_backward(log_probs, labels)

    log_share = result.log_alpha + result.log_beta - log_probs[:, extended]  # eq. 14's terms
    np.testing.assert_allclose(np.exp(log_share).sum(axis=1), total, **VALUES)
    np.testing.assert_allclose(result.grad_log_probs, -expected_posterior / total, **VALUES)
    np.testing.assert_allclose(result.grad_logits, np.exp(log_probs) - expected_posterior / total, **VALUES)
    np.testing.assert_allclose(result.grad_logits.sum(axis=1), 0.0, **VALUES)  # eq. 16: y and q both sum to 1


@pytest.mark.parametrize(("steps", "num_symbols", "labels"), POSSIBLE)
def test_gradients_match_central_differences(steps, num_symbols, labels):
    log_probs = _log_probs(steps, num_symbols, seed=3)
    logits = log_probs + np.random.default_rng(3).normal(size=(steps, 1))  # softmax(logits) = exp(log_probs)

    def loss_of_logits():
        return ctc_forward_backward(logits - np.log(np.exp(logits).sum(axis=1, keepdims=True)), labels).loss

    result = ctc_forward_backward(log_probs, labels)
    errors = gradient_check(lambda: ctc_forward_backward(log_probs, labels).loss, {"log_probs": log_probs},
                            {"log_probs": result.grad_log_probs})  # fmt: skip
    errors |= gradient_check(loss_of_logits, {"logits": logits}, {"logits": result.grad_logits})

    assert max(errors.values()) < GRADIENT_ERROR, errors


def _random_batch(rng, batch, num_symbols, max_steps):
    """Utterances of different lengths, their labellings with repeats, one empty and one impossible."""
    steps = rng.integers(max_steps // 2, max_steps + 1, size=batch)
    steps[0] = max_steps
    labellings = []
    for b in range(batch):
        length = int(rng.integers(0, steps[b] // 2 + 1))
        labels = rng.integers(1, num_symbols, size=length)
        if length >= 3:
            labels[2] = labels[1]  # a repeat
        labellings.append(labels.tolist())
    labellings[1] = []
    labellings[2] = [1, 2] * int(steps[2])  # 2T labels in T frames
    return steps, labellings


@pytest.mark.parametrize(("seed", "num_symbols", "max_steps"), [(0, 3, 8), (1, 5, 20), (2, 11, 60), (3, 30, 120)])
def test_losses_and_logit_gradients_match_torch_ctc_loss(seed, num_symbols, max_steps):
    rng = np.random.default_rng(seed)
    batch = 8
    steps, labellings = _random_batch(rng, batch, num_symbols, max_steps)
    logits = torch.tensor(rng.normal(scale=2.0, size=(max_steps, batch, num_symbols)), requires_grad=True)
    log_probs = F.log_softmax(logits, dim=-1)  # (T, B, K)
    targets = torch.zeros(batch, max(len(labels) for labels in labellings), dtype=torch.long)
    for b, labels in enumerate(labellings):
        targets[b, : len(labels)] = torch.tensor(labels, dtype=torch.long)
    losses = F.ctc_loss(log_probs, targets, torch.tensor(steps), torch.tensor([len(x) for x in labellings]),
                        blank=0, reduction="none", zero_infinity=False)  # fmt: skip
    losses[torch.isfinite(losses)].sum().backward()

    for b, labels in enumerate(labellings):
        ours = ctc_forward_backward(log_probs[: steps[b], b].detach().numpy(), labels)
        if b == 2:
            assert ours.loss == math.inf and losses[b].item() == math.inf
            continue
        np.testing.assert_allclose(ours.loss, losses[b].item(), **TORCH)
        np.testing.assert_allclose(ours.grad_logits, logits.grad[: steps[b], b].numpy(), **TORCH)
        np.testing.assert_allclose(logits.grad[steps[b] :, b].numpy(), 0.0, **VALUES)  # padding frames


def test_an_impossible_labelling_has_infinite_loss_and_nan_gradients_as_torch():
    log_probs = _log_probs(3, 3)
    logits = torch.tensor(log_probs[:, None, :], requires_grad=True)
    loss = F.ctc_loss(F.log_softmax(logits, dim=-1), torch.tensor([[1, 1, 2]]), torch.tensor([3]), torch.tensor([3]),
                      reduction="none", zero_infinity=False)  # fmt: skip
    loss.sum().backward()

    ours = ctc_forward_backward(log_probs, [1, 1, 2])  # 3 labels and a repeat need 4 frames

    assert ours.loss == loss.item() == math.inf
    assert np.isnan(ours.grad_logits).all() and torch.isnan(logits.grad).all()
    assert np.isnan(ours.grad_log_probs).all()


def test_the_empty_labelling_is_the_path_of_blanks():
    log_probs = _log_probs(5, 4)

    result = ctc_forward_backward(log_probs, [])

    np.testing.assert_allclose(result.loss, -log_probs[:, 0].sum(), **VALUES)
    assert result.log_alpha.shape == (5, 1)
    np.testing.assert_allclose(result.grad_log_probs, -np.eye(4)[[0] * 5], **VALUES)


def test_a_blank_other_than_zero():
    log_probs = _log_probs(5, 4, seed=4)
    permutation = [3, 1, 2, 0]  # symbol 0 and the blank swap places

    moved = ctc_forward_backward(log_probs[:, permutation], [1, 0, 0], blank=3)
    expected = ctc_forward_backward(log_probs, [1, 3, 3], blank=0)

    np.testing.assert_allclose(moved.loss, expected.loss, **VALUES)
    np.testing.assert_allclose(moved.grad_logits, expected.grad_logits[:, permutation], **VALUES)
    np.testing.assert_allclose(moved.loss, _brute_force_loss(log_probs[:, permutation], [1, 0, 0], blank=3), **VALUES)


def test_long_utterances_do_not_underflow_and_match_torch_ctc_loss():
    # 2,000 frames: p(l|x) is far below the smallest float64, its log is not
    log_probs = _log_probs(2000, 5, seed=5, scale=3.0)
    labels = [1, 2, 2, 3, 4] * 20
    logits = torch.tensor(log_probs[:, None, :], requires_grad=True)  # (T, B = 1, K)
    loss = F.ctc_loss(F.log_softmax(logits, dim=-1), torch.tensor([labels]), torch.tensor([2000]),
                      torch.tensor([len(labels)]), reduction="sum", zero_infinity=False)  # fmt: skip
    loss.backward()

    result = ctc_forward_backward(log_probs, labels)

    assert 745.0 < result.loss < math.inf  # e^-745 is below the smallest subnormal double
    np.testing.assert_allclose(result.loss, loss.item(), rtol=1e-13, atol=0)  # ~4,800 nats
    np.testing.assert_allclose(result.grad_logits, logits.grad[:, 0].numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.grad_logits.sum(axis=1), 0.0, rtol=0, atol=1e-10)


def test_collapse_merges_runs_then_removes_blanks():
    # Graves et al. (2006, §3.1): B(a-ab-) = B(-aa--abb) = aab, with a = 1, b = 2, - = 0
    assert ctc_collapse([1, 0, 1, 2, 0]) == ctc_collapse([0, 1, 1, 0, 0, 1, 2, 2]) == [1, 1, 2]
    assert ctc_collapse([]) == [] and ctc_collapse([0, 0]) == []
    assert ctc_collapse([2, 2, 1], blank=2) == [1]
    for path in itertools.product(range(3), repeat=4):
        assert tuple(ctc_collapse(path)) == _collapse(path)


def test_extended_labels_and_minimum_frames():
    assert ctc_extended_labels([3, 3, 1]).tolist() == [0, 3, 0, 3, 0, 1, 0]
    assert ctc_extended_labels([], blank=2).tolist() == [2]
    assert [ctc_min_frames(x) for x in ([], [1], [1, 2], [1, 1], [1, 1, 1], [1, 2, 1])] == [0, 1, 2, 3, 5, 3]


@pytest.mark.parametrize(("steps", "num_symbols", "labels"), CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_best_path_is_the_most_probable_path_of_the_labelling(steps, num_symbols, labels, seed):
    log_probs = _log_probs(steps, num_symbols, seed=seed)
    candidates = {path: p for path, p in _paths(log_probs).items() if _collapse(path) == tuple(labels)}

    path, log_prob = ctc_best_path(log_probs, labels)

    if not candidates:
        assert (path, log_prob) == ([], -math.inf)
        return
    best = max(candidates, key=candidates.get)
    assert tuple(path) == best
    np.testing.assert_allclose(log_prob, math.log(candidates[best]), **VALUES)
    assert log_prob <= -ctc_forward_backward(log_probs, labels).loss


def test_probability_zero_symbols_are_exact():
    log_probs = _log_probs(4, 3, seed=6)
    log_probs[1, 0] = log_probs[2, 2] = -np.inf  # no blank at frame 1, no 2 at frame 2

    with np.errstate(all="raise"):  # -inf handled exactly: no NaN, no warning
        result = ctc_forward_backward(log_probs, [1, 2])
        path, _ = ctc_best_path(log_probs, [1, 2])

    np.testing.assert_allclose(result.loss, _brute_force_loss(log_probs, [1, 2]), **VALUES)
    assert np.isfinite(result.grad_logits).all()
    assert result.grad_log_probs[1, 0] == 0.0 and path[1] != 0 and path[2] != 2


def test_bad_input_is_a_clear_error():
    log_probs = _log_probs(3, 3)
    with pytest.raises(SeqlabError, match=r"log_probs must be \(T, K\) with T >= 1 and K >= 2, got \(0, 3\)"):
        ctc_forward_backward(np.zeros((0, 3)), [])
    with pytest.raises(SeqlabError, match=r"labels must lie in \[0, 3\) and never be the blank 0"):
        ctc_forward_backward(log_probs, [1, 0])
    with pytest.raises(SeqlabError, match=r"labels must lie in \[0, 3\)"):
        ctc_best_path(log_probs, [3])
    with pytest.raises(SeqlabError, match=r"blank must lie in \[0, 3\), got 3"):
        ctc_forward(log_probs, [1], blank=3)


def test_docstring_example():
    result = doctest.testmod(seqlab.reference.ctc)

    assert result.attempted > 0 and result.failed == 0
