"""LinearChainCRF against the float64 NumPy reference, against pytorch-crf, and against enumeration.

* The reference (``seqlab.reference.crf``) is one sentence at a time; a batch with a mask is a
  loop over its sentences, each cut to its length. NLL, gradients, Viterbi and top-k agree to
  1e-10 in float64.
* pytorch-crf (``torchcrf.CRF``, time-first unless ``batch_first=True``) returns the
  log-likelihood, summed by default: our NLL with ``reduction="sum"`` is minus that.
* Constraints are checked by enumerating every tag path, with the score s(X, y) of Lample et al.
  (2016, §2.2) written out in this file.
"""

import doctest
import itertools
import math

import numpy as np
import pytest
import torch
import torchcrf
from torch.func import functional_call

import seqlab.nn.crf
from seqlab.errors import SeqlabError
from seqlab.nn import LinearChainCRF
from seqlab.reference import crf_nll, crf_nll_backward, crf_viterbi, crf_viterbi_topk

B, T, K = 4, 5, 3
LENGTHS = [5, 3, 1, 4]  # the full length, a short one, a single word, one word of padding
TIGHT = dict(rtol=0, atol=1e-10)
NAMES = ("transitions", "start_transitions", "end_transitions")


def _mask(lengths=LENGTHS, steps=T):
    return torch.arange(steps) < torch.tensor(lengths).unsqueeze(1)


def _crf(num_tags=K, *allowed, seed=0):
    """A float64 layer with scores of order 1, so that no path dominates any sum."""
    torch.manual_seed(seed)
    crf = LinearChainCRF(num_tags, *allowed, dtype=torch.float64)
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()
    return crf


def _inputs(batch=B, steps=T, num_tags=K, *, seed=1):
    generator = torch.Generator().manual_seed(seed)
    emissions = torch.randn(batch, steps, num_tags, dtype=torch.float64, generator=generator)
    tags = torch.randint(num_tags, (batch, steps), generator=generator)
    return emissions.requires_grad_(), tags


def _params(crf):
    """The layer's scores as NumPy arrays, -inf where disallowed: the reference's parameters."""
    return {name: scores.detach().numpy() for name, scores in zip(NAMES, crf.constrained_scores())}


def _sentences(emissions, tags, mask):
    """(b, emissions (L, K), tags (L,)) for each sentence, cut to its length."""
    for b, length in enumerate(mask.sum(1).tolist()):
        yield b, emissions[b, :length].detach().numpy(), tags[b, :length].numpy()


def _score(crf, emissions, path):
    """s(X, y) of one sentence's path, Lample et al. (2016, §2.2): emissions (L, K), the path of L tags."""
    transitions, start, end = (scores.detach() for scores in crf.constrained_scores())
    total = start[path[0]] + end[path[-1]] + sum(emissions[t, tag] for t, tag in enumerate(path))
    return float(total + sum(transitions[path[t - 1], path[t]] for t in range(1, len(path))))


def _allowed_paths(crf, emissions):
    """{path: s(X, path)} over every path of one sentence that makes no disallowed move."""
    steps, num_tags = emissions.shape
    scores = {path: _score(crf, emissions, path) for path in itertools.product(range(num_tags), repeat=steps)}
    return {path: score for path, score in scores.items() if score > -math.inf}


def _bio_constraints():
    """Tags O, B-X, I-X, B-Y, I-Y: I-X only after B-X or I-X, I-Y only after B-Y or I-Y; no I first."""
    allowed = torch.ones(5, 5, dtype=torch.bool)
    allowed[:, 2] = False
    allowed[[1, 2], 2] = True
    allowed[:, 4] = False
    allowed[[3, 4], 4] = True
    allowed_start = torch.tensor([True, True, False, True, False])
    return allowed, allowed_start


def _forbidden_moves(path, allowed, allowed_start):
    moves = [(path[t - 1], path[t]) for t in range(1, len(path)) if not allowed[path[t - 1], path[t]]]
    return moves + ([("start", path[0])] if not allowed_start[path[0]] else [])


# --- against the NumPy reference -----------------------------------------------------------------


def test_nll_of_each_sentence_is_the_reference():
    crf, (emissions, tags), mask = _crf(), _inputs(), _mask()

    nll = crf(emissions, tags, mask, reduction="none")

    expected = [crf_nll(_params(crf), e, y) for _, e, y in _sentences(emissions, tags, mask)]
    torch.testing.assert_close(nll, torch.tensor(expected, dtype=torch.float64), **TIGHT)


def test_reductions_are_the_mean_by_default_and_the_sum_over_sentences():
    crf, (emissions, tags), mask = _crf(), _inputs(), _mask()

    each = crf(emissions, tags, mask, reduction="none")

    torch.testing.assert_close(crf(emissions, tags, mask), each.mean(), **TIGHT)
    torch.testing.assert_close(crf(emissions, tags, mask, reduction="sum"), each.sum(), **TIGHT)


def test_every_gradient_is_the_references_summed_over_sentences():
    crf, (emissions, tags), mask = _crf(), _inputs(), _mask()

    crf(emissions, tags, mask, reduction="sum").backward()

    expected = {name: np.zeros_like(value) for name, value in _params(crf).items()}
    expected_emissions = np.zeros(emissions.shape)  # zero at padding
    for b, e, y in _sentences(emissions, tags, mask):
        grads = crf_nll_backward(_params(crf), e, y)
        expected_emissions[b, : len(y)] = grads["emissions"]
        for name in NAMES:
            expected[name] += grads[name]
    torch.testing.assert_close(emissions.grad, torch.from_numpy(expected_emissions), **TIGHT)
    for name in NAMES:
        torch.testing.assert_close(getattr(crf, name).grad, torch.from_numpy(expected[name]), **TIGHT, msg=name)


def test_viterbi_paths_and_scores_are_the_references():
    crf, (emissions, tags), mask = _crf(), _inputs(seed=2), _mask()

    paths = crf.decode(emissions, mask)

    for b, e, _ in _sentences(emissions, tags, mask):
        expected_path, expected_score = crf_viterbi(_params(crf), e)
        assert paths.tolist()[b] == expected_path
        assert paths.tags[b, : len(expected_path)].tolist() == expected_path
        assert paths.tags[b, len(expected_path) :].tolist() == [-1] * (T - len(expected_path))
        assert paths.scores[b].item() == pytest.approx(expected_score, abs=1e-10)


@pytest.mark.parametrize("k", [1, 4, 20])
def test_topk_paths_and_scores_are_the_references(k):
    crf, (emissions, tags), mask = _crf(), _inputs(seed=3), _mask()

    top = crf.decode_topk(emissions, mask, k)

    assert top.tags.shape == (B, k, T) and top.scores.shape == (B, k)
    for b, e, _ in _sentences(emissions, tags, mask):
        expected = crf_viterbi_topk(_params(crf), e, k)  # fewer than k for the 1-word sentence: K^1 = 3
        assert top.tolist()[b] == [path for path, _ in expected]
        found, expected_scores = len(expected), torch.tensor([s for _, s in expected], dtype=torch.float64)
        torch.testing.assert_close(top.scores[b, :found], expected_scores, **TIGHT)
        assert torch.all(torch.isneginf(top.scores[b, found:])) and torch.all(top.tags[b, found:] == -1)


def test_topk_of_one_is_viterbi():
    crf, (emissions, _), mask = _crf(), _inputs(seed=4), _mask()

    best, top = crf.decode(emissions, mask), crf.decode_topk(emissions, mask, 1)

    assert torch.equal(top.tags.squeeze(1), best.tags) and torch.equal(top.scores.squeeze(1), best.scores)


def test_decoded_scores_are_the_scores_of_the_decoded_paths():
    crf, (emissions, _), mask = _crf(), _inputs(seed=5), _mask()

    top = crf.decode_topk(emissions, mask, 3)

    for b, paths in enumerate(top.tolist()):
        for rank, path in enumerate(paths):
            expected = _score(crf, emissions[b].detach(), path)
            assert top.scores[b, rank].item() == pytest.approx(expected, abs=1e-10)


# --- against pytorch-crf --------------------------------------------------------------------------


def _pytorch_crf_twin(crf, *, batch_first):
    theirs = torchcrf.CRF(crf.num_tags, batch_first=batch_first).double()
    theirs.load_state_dict(crf.state_dict())
    return theirs


@pytest.mark.parametrize("lengths", [LENGTHS, [T] * B], ids=["padded", "full"])
def test_nll_and_viterbi_equal_pytorch_crf_with_the_same_parameters(lengths):
    crf, (emissions, tags), mask = _crf(), _inputs(seed=6), _mask(lengths)
    theirs = _pytorch_crf_twin(crf, batch_first=True)

    log_likelihood = theirs(emissions, tags, mask, reduction="none")

    torch.testing.assert_close(crf(emissions, tags, mask, reduction="none"), -log_likelihood, **TIGHT)
    torch.testing.assert_close(crf(emissions, tags, mask, reduction="sum"), -theirs(emissions, tags, mask), **TIGHT)
    assert crf.decode(emissions, mask).tolist() == theirs.decode(emissions, mask)


def test_pytorch_crf_time_first_reads_the_transposed_batch():
    crf, (emissions, tags), mask = _crf(), _inputs(seed=7), _mask()
    theirs = _pytorch_crf_twin(crf, batch_first=False)

    log_likelihood = theirs(emissions.transpose(0, 1), tags.T, mask.T, reduction="mean")

    torch.testing.assert_close(crf(emissions, tags, mask), -log_likelihood, **TIGHT)
    assert crf.decode(emissions, mask).tolist() == theirs.decode(emissions.transpose(0, 1), mask.T)


def test_gradients_equal_pytorch_crfs():
    crf, (emissions, tags), mask = _crf(), _inputs(seed=8), _mask()
    theirs = _pytorch_crf_twin(crf, batch_first=True)
    their_emissions = emissions.detach().clone().requires_grad_()

    crf(emissions, tags, mask, reduction="sum").backward()
    (-theirs(their_emissions, tags, mask)).backward()

    torch.testing.assert_close(emissions.grad, their_emissions.grad, **TIGHT)
    for name in NAMES:
        torch.testing.assert_close(getattr(crf, name).grad, getattr(theirs, name).grad, **TIGHT, msg=name)


# --- autograd --------------------------------------------------------------------------------------


@pytest.mark.parametrize("allowed", [False, True], ids=["free", "constrained"])
def test_torch_gradcheck_in_float64(allowed):
    allowed_transitions = torch.tensor([[True, False, True], [True, True, True], [False, True, True]])
    crf = _crf(K, allowed_transitions if allowed else None)
    emissions, _ = _inputs(3, 4, seed=9)
    tags = torch.tensor([[0, 0, 2, 2], [1, 0, 2, 0], [2, 2, 1, 0]])  # allowed under the constraints
    mask = _mask([4, 2, 1], 4)
    params = tuple(getattr(crf, name).detach().clone().requires_grad_() for name in NAMES)

    def nll(emissions, *params):
        return functional_call(crf, dict(zip(NAMES, params)), (emissions, tags, mask), {"reduction": "none"})

    assert torch.autograd.gradcheck(nll, (emissions, *params))


def test_padding_is_never_read():
    crf, (emissions, tags), mask = _crf(), _inputs(seed=10), _mask()
    poisoned = emissions.detach().masked_fill(~mask.unsqueeze(2), float("nan")).requires_grad_()
    padded_tags = tags.masked_fill(~mask, -100)

    nll = crf(emissions, tags, mask, reduction="sum")
    poisoned_nll = crf(poisoned, padded_tags, mask, reduction="sum")
    grads = torch.autograd.grad(nll, [emissions, *crf.parameters()])
    poisoned_grads = torch.autograd.grad(poisoned_nll, [poisoned, *crf.parameters()])

    torch.testing.assert_close(poisoned_nll, nll, rtol=0, atol=0)
    for name, poisoned_grad, grad in zip(["emissions", *NAMES], poisoned_grads, grads):
        torch.testing.assert_close(poisoned_grad, grad, rtol=0, atol=0, msg=name)
    assert torch.all(poisoned_grads[0][~mask] == 0.0)
    assert torch.equal(crf.decode(poisoned, mask).tags, crf.decode(emissions, mask).tags)
    assert torch.equal(crf.decode_topk(poisoned, mask, 3).tags, crf.decode_topk(emissions, mask, 3).tags)


def test_no_mask_means_every_word_is_real():
    crf, (emissions, tags) = _crf(), _inputs(seed=11)
    mask = torch.ones(B, T, dtype=torch.bool)

    torch.testing.assert_close(crf(emissions, tags), crf(emissions, tags, mask), rtol=0, atol=0)
    assert torch.equal(crf.decode(emissions).tags, crf.decode(emissions, mask).tags)


def test_float32_follows_float64_and_stays_float32():
    crf, (emissions, tags), mask = _crf(), _inputs(seed=12), _mask()
    single = LinearChainCRF(K)
    single.load_state_dict(crf.state_dict())
    emissions32 = emissions.detach().float().requires_grad_()

    nll32 = single(emissions32, tags, mask, reduction="none")
    nll32.sum().backward()
    crf(emissions, tags, mask, reduction="none").sum().backward()

    assert nll32.dtype == torch.float32 and emissions32.grad.dtype == torch.float32
    torch.testing.assert_close(nll32.double(), crf(emissions, tags, mask, reduction="none"), rtol=0, atol=1e-5)
    torch.testing.assert_close(emissions32.grad.double(), emissions.grad, rtol=0, atol=1e-5)
    assert single.decode(emissions32, mask).tolist() == crf.decode(emissions, mask).tolist()


def test_scores_of_hundreds_of_nats_neither_overflow_nor_underflow():
    crf, (emissions, tags), mask = _crf(), _inputs(seed=13), _mask()
    large = (emissions.detach() * 300.0).requires_grad_()  # one word's tags differ by hundreds of nats

    nll = crf(large, tags, mask, reduction="none")
    nll.sum().backward()

    expected = [crf_nll(_params(crf), e, y) for _, e, y in _sentences(large, tags, mask)]
    torch.testing.assert_close(nll, torch.tensor(expected, dtype=torch.float64), rtol=1e-12, atol=1e-9)
    assert torch.all(torch.isfinite(large.grad))


# --- constraints -----------------------------------------------------------------------------------


def _bio_crf():
    allowed, allowed_start = _bio_constraints()
    allowed_end = torch.tensor([True, True, True, True, False])  # as if I-Y could not end a sentence
    return _crf(5, allowed, allowed_start, allowed_end, seed=14), (allowed, allowed_start, allowed_end)


def test_partition_sums_only_the_allowed_paths():
    crf, _ = _bio_crf()
    emissions, _ = _inputs(3, 4, 5, seed=15)
    mask = _mask([4, 2, 1], 4)

    log_z = crf.log_partition(emissions, mask)

    for b, length in enumerate([4, 2, 1]):
        scores = _allowed_paths(crf, emissions[b, :length].detach())
        expected = math.log(sum(math.exp(score) for score in scores.values()))
        assert log_z[b].item() == pytest.approx(expected, abs=1e-10)


def test_no_decoded_path_makes_a_forbidden_move():
    crf, (allowed, allowed_start, allowed_end) = _bio_crf()
    emissions, _ = _inputs(6, 4, 5, seed=16)
    with torch.no_grad():
        emissions[:, :, [2, 4]] += 5.0  # the network prefers the I tags: constraints must overrule it
    mask = _mask([4, 4, 3, 2, 1, 4], 4)

    best = crf.decode(emissions, mask).tolist()
    top = crf.decode_topk(emissions, mask, 50).tolist()

    for path in best + [path for paths in top for path in paths]:
        assert _forbidden_moves(path, allowed, allowed_start) == [] and allowed_end[path[-1]], path
    for b, paths in enumerate(top):
        scores = _allowed_paths(crf, emissions[b, : len(paths[0])].detach())
        assert [tuple(path) for path in paths] == sorted(scores, key=scores.get, reverse=True)[:50]
        assert tuple(best[b]) == max(scores, key=scores.get)


def test_fewer_allowed_paths_than_k_leave_empty_slots():
    crf, _ = _bio_crf()
    emissions, _ = _inputs(1, 1, 5, seed=17)

    top = crf.decode_topk(emissions, None, 5)

    # one word: the allowed tags are those that may both start and end a sentence: O, B-X, B-Y
    assert sorted(top.tolist()[0]) == [[0], [1], [3]]
    assert top.tags[0, 3:].tolist() == [[-1], [-1]] and torch.all(torch.isneginf(top.scores[0, 3:]))


def test_forbidden_moves_get_no_gradient_and_allowed_ones_do():
    crf, (allowed, allowed_start, allowed_end) = _bio_crf()
    emissions, _ = _inputs(2, 4, 5, seed=18)
    tags = torch.tensor([[1, 2, 0, 3], [0, 3, 4, 0]])

    crf(emissions, tags).backward()

    assert torch.all(crf.transitions.grad[~allowed] == 0.0) and torch.all(crf.transitions.grad[allowed] != 0.0)
    assert torch.all(crf.start_transitions.grad[~allowed_start] == 0.0)
    assert torch.all(crf.end_transitions.grad[~allowed_end] == 0.0)


def test_constraints_travel_with_the_state_dict():
    crf, (allowed, allowed_start, allowed_end) = _bio_crf()
    copy = LinearChainCRF(5, torch.ones(5, 5, dtype=torch.bool), allowed_start, allowed_end, dtype=torch.float64)

    copy.load_state_dict(crf.state_dict())

    assert torch.equal(copy.allowed_transitions, allowed)
    assert set(LinearChainCRF(5).state_dict()) == set(NAMES)  # unconstrained: pytorch-crf's keys exactly


# --- errors ----------------------------------------------------------------------------------------


def test_a_gold_path_with_a_disallowed_move_is_an_error():
    crf, _ = _bio_crf()
    emissions, _ = _inputs(3, 3, 5, seed=19)
    tags = torch.tensor([[0, 1, 2], [0, 2, 2], [0, 4, 4]])  # O -> I-X in sentence 1, O -> I-Y in 2

    with pytest.raises(SeqlabError, match=r"gold tags of sentence\(s\) \[1, 2\] make a disallowed move"):
        crf(emissions, tags)
    assert torch.isfinite(crf(emissions, tags, _mask([3, 1, 1], 3))).all()  # the bad moves are padding there


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e, t, m: (e[:, :, :2], t, m), r"emissions must be \(B, T, 3\) with T >= 1, got \(4, 5, 2\)"),
        (lambda e, t, m: (e[:, :0], t[:, :0], m[:, :0]), r"emissions must be \(B, T, 3\) with T >= 1"),
        (lambda e, t, m: (e, t, m.long()), r"the mask must be boolean \(4, 5\), got torch.int64"),
        (lambda e, t, m: (e, t, m[:, :4]), r"the mask must be boolean \(4, 5\), got torch.bool \(4, 4\)"),
        (lambda e, t, m: (e, t, m & (torch.arange(5) > 0)), r"mask\[:, 0\] must be all True"),
        (lambda e, t, m: (e, t, m & (torch.arange(5) != 2)), "padding only at the end"),
        (lambda e, t, m: (e, t.int(), m), r"tags must be int64 \(4, 5\), got torch.int32"),
        (lambda e, t, m: (e, t.masked_fill(m, 3), m), r"tags must lie in \[0, 3\)"),
    ],
    ids=["emissions", "no-words", "mask-type", "mask-shape", "empty-sentence", "holes", "tags-type", "tags-range"],
)
def test_bad_input_is_a_one_line_error(change, message):
    crf, (emissions, tags), mask = _crf(), _inputs(), _mask()

    with pytest.raises(SeqlabError, match=message) as error:
        crf(*change(emissions, tags, mask))
    assert "\n" not in str(error.value)


def test_bad_arguments_are_one_line_errors():
    crf, (emissions, tags), mask = _crf(), _inputs(), _mask()
    with pytest.raises(SeqlabError, match="unknown reduction 'max'"):
        crf(emissions, tags, mask, reduction="max")
    with pytest.raises(SeqlabError, match="k must be at least 1, got 0"):
        crf.decode_topk(emissions, mask, 0)
    with pytest.raises(SeqlabError, match=r"allowed_transitions must be a boolean tensor of shape \(3, 3\)"):
        LinearChainCRF(3, torch.ones(3, 3))
    with pytest.raises(SeqlabError, match=r"allowed_start must be a boolean tensor of shape \(3,\)"):
        LinearChainCRF(3, allowed_start=torch.ones(4, dtype=torch.bool))
    with pytest.raises(SeqlabError, match="allowed_end allows nothing"):
        LinearChainCRF(3, allowed_end=torch.zeros(3, dtype=torch.bool))
    with pytest.raises(SeqlabError, match="num_tags must be at least 1"):
        LinearChainCRF(0)


def test_docstring_example():
    result = doctest.testmod(seqlab.nn.crf)

    assert result.attempted > 0 and result.failed == 0
