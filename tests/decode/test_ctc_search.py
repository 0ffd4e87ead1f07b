"""CTC search against brute force: every path of a small table enumerated, every labelling's exact probability.

The definition is written out here (Graves et al. 2006, §3.1): p(π|x) = Π_t y^t_{π_t}; B merges each
run of a symbol and removes the blanks; p(l|x) sums the paths with B(π) = l. A prefix beam search
wide enough to keep every prefix must give every labelling with its exact probability, ranked by
ln p(l|x) + α ln P_lm(l </s>) + β |l|; narrower beams and prunings are tested on hand-written tables
and by their definitions. The agreement with pyctcdecode is measured by ``benchmarks/ctc_decode.py``
(it is not a test dependency).

Tolerances: 1e-12 absolute on log-probabilities and scores (sums of a few hundred terms in another
order, in log space against linear space).
"""

import itertools
import math

import numpy as np
import pytest
import torch

from seqlab.decode import (
    CTCHypothesis,
    SymbolNgramLM,
    ctc_forced_alignment,
    ctc_greedy,
    ctc_prefix_beam_search,
)
from seqlab.decode.symbol_ngram import EOS
from seqlab.errors import SeqlabError
from seqlab.reference import ctc_best_path, ctc_forward_backward

VALUES = dict(rtol=0, atol=1e-12)
WIDE = 2000  # more than the labellings of any table here
# (T, K): up to 4^6 = 4096 paths
SIZES = [(1, 3), (3, 3), (5, 3), (6, 3), (4, 4), (5, 4), (3, 6)]


def _log_probs(steps, num_symbols, *, seed=0, scale=1.5):
    logits = np.random.default_rng(seed).normal(scale=scale, size=(steps, num_symbols))
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def _collapse(path, blank=0):
    kept = [symbol for t, symbol in enumerate(path) if t == 0 or path[t - 1] != symbol]
    return tuple(symbol for symbol in kept if symbol != blank)


def _labellings(log_probs, allowed=None, blank=0):
    """{l: ln p(l|x)} summed over every path (only through the ``allowed[t]`` symbols of each frame, if given)."""
    steps, num_symbols = log_probs.shape
    allowed = allowed or [range(num_symbols)] * steps
    totals = {}
    for path in itertools.product(*allowed):
        labelling = _collapse(path, blank)
        totals[labelling] = totals.get(labelling, 0.0) + math.exp(sum(log_probs[t, k] for t, k in enumerate(path)))
    return {labelling: math.log(total) for labelling, total in totals.items()}


def _search(log_probs, **options):
    """One utterance through the batched search."""
    [hypotheses] = ctc_prefix_beam_search(log_probs[None], [len(log_probs)], **options)
    return hypotheses


@pytest.mark.parametrize(("steps", "num_symbols"), SIZES)
@pytest.mark.parametrize("seed", [0, 1])
def test_a_wide_beam_finds_every_labelling_with_its_exact_probability(steps, num_symbols, seed):
    log_probs = _log_probs(steps, num_symbols, seed=seed)
    exact = _labellings(log_probs)
    ranked = sorted(exact, key=exact.get, reverse=True)

    found = _search(log_probs, beam_width=WIDE, nbest=len(exact), token_min_logp=-math.inf)

    assert [tuple(h.symbols) for h in found] == ranked
    np.testing.assert_allclose([h.log_prob for h in found], [exact[x] for x in ranked], **VALUES)
    assert all(h.score == h.log_prob and h.lm_log_prob == 0.0 for h in found)
    # and the best labelling's probability is the CTC loss's of the reference
    np.testing.assert_allclose(found[0].log_prob, -ctc_forward_backward(log_probs, found[0].symbols).loss, **VALUES)


# blank, a, b at both frames: greedy and a beam of 1 keep the empty prefix (0.5 > 0.4, then 0.25 > 0.2),
# but "a" has the paths a-, -a and aa: 0.2 + 0.2 + 0.16 = 0.56, which a beam of 2 finds.
GREEDY_TRAP = np.log([[0.5, 0.4, 0.1], [0.5, 0.4, 0.1]])


def test_greedy_and_a_beam_of_1_fall_into_the_trap_and_a_beam_of_2_does_not():
    [greedy] = ctc_greedy(GREEDY_TRAP[None], [2])
    [narrow] = _search(GREEDY_TRAP, beam_width=1, token_min_logp=-math.inf)
    wide = _search(GREEDY_TRAP, beam_width=2, nbest=2, token_min_logp=-math.inf)

    assert greedy == narrow.symbols == []
    np.testing.assert_allclose(narrow.log_prob, math.log(0.25), **VALUES)
    assert [h.symbols for h in wide] == [[1], []]
    np.testing.assert_allclose([h.log_prob for h in wide], np.log([0.56, 0.25]), **VALUES)


@pytest.mark.parametrize("beam_width", [1, 2, 5])
def test_a_beam_keeps_at_most_its_width_and_never_more_than_the_exact_probability(beam_width):
    log_probs = _log_probs(6, 4, seed=7, scale=1.0)
    exact = _labellings(log_probs)

    found = _search(log_probs, beam_width=beam_width, nbest=beam_width, token_min_logp=-math.inf)

    assert len(found) == beam_width and len({tuple(h.symbols) for h in found}) == beam_width
    assert [h.score for h in found] == sorted((h.score for h in found), reverse=True)
    for h in found:  # only the paths the beam kept are counted
        assert h.log_prob <= exact[tuple(h.symbols)] + 1e-12


# a = 1, b = 2; rows (blank, a, b). A beam of 2, p_b + p_nb of each candidate, the two kept first:
#   t0 (.1, .3, .6):   b .6, a .3 | ∅ .1
#   t1 (.2, .45, .35): b .2·.6 + .35·.6 = .33, ba .45·.6 = .27 | a .195, ab .105
#   t2 (.2, .1, .7):   b .2·.33 + .7·.21 = .213, bab .7·.27 = .189 | ba .2·.27 + .1·.27 + .1·.33 = .114, bb .084
#   t3 (.05, .45, .5): bab .05·.189 + .5·.189 = .10395, ba .45·.213 = .09585 (back, from b) | baba .08505,
#                      b .05·.213 + .5·.147 = .08415, bb .033
#   t4 (.3, .1, .6):   bab: p_b .3·.10395 = .031185, p_nb .6·.0945 (its own) + .6·.09585 (from ba) = .11421;
#                      ba: p_b .3·.09585 = .028755, p_nb .1·.09585 = .009585 | baba .010395, babb .00567
# ba left the beam at t2 while bab stayed and came back at t3, so bab's two terms at t4 must add into one
# entry: .145395. Two entries for bab (.087885 and .05751) would split it and push ba out.
PREFIX_RETURNS = np.log([[0.1, 0.3, 0.6], [0.2, 0.45, 0.35], [0.2, 0.1, 0.7], [0.05, 0.45, 0.5], [0.3, 0.1, 0.6]])


def test_a_prefix_that_leaves_the_beam_and_comes_back_merges_with_its_extension_in_the_beam():
    found = _search(PREFIX_RETURNS, beam_width=2, nbest=2, token_min_logp=-math.inf)

    assert [h.symbols for h in found] == [[2, 1, 2], [2, 1]]
    np.testing.assert_allclose([h.log_prob for h in found], np.log([0.145395, 0.03834]), **VALUES)


def _logadd(a, b):
    return b if a == -math.inf else a if b == -math.inf else max(a, b) + math.log1p(math.exp(-abs(a - b)))


def _dict_beam_search(log_probs, *, beam_width, token_min_logp, beam_prune_logp, lm=None, alpha=0.0, beta=0.0):
    """Hannun et al.'s Algorithm 1 written out with a dict keyed by prefix, the blank 0 and the pruning rules of
    ``ctc_prefix_beam_search``: the whole beam, ranked, as [(prefix, score, ln p_ctc, ln P_lm(prefix </s>))].

    Candidates are ranked in the order they are first met (the beam's prefixes in its order, then the new
    extensions), ties to the first, as the kernel's; with random tables there are no ties anyway."""
    lm_step = (lambda prefix, symbol: lm.log_prob(prefix, symbol)) if lm else (lambda prefix, symbol: 0.0)
    alpha = alpha if lm else 0.0
    beam = {(): (0.0, -math.inf, 0.0)}  # prefix: ln p_b, ln p_nb, ln P_lm(prefix)
    for row in log_probs.tolist():
        best = max(range(len(row)), key=row.__getitem__)
        tried = [k for k, y in enumerate(row) if y >= token_min_logp or k == best]
        following = {prefix: [-math.inf, -math.inf, lm_log_prob] for prefix, (_, _, lm_log_prob) in beam.items()}
        for prefix, (p_b, p_nb, lm_log_prob) in beam.items():
            for k in tried:
                if k == 0:
                    following[prefix][0] = _logadd(following[prefix][0], row[k] + _logadd(p_b, p_nb))
                    continue
                if prefix and prefix[-1] == k:
                    following[prefix][1] = _logadd(following[prefix][1], row[k] + p_nb)
                    extension = row[k] + p_b
                else:
                    extension = row[k] + _logadd(p_b, p_nb)
                if extension == -math.inf or (lm and k not in lm.symbols):
                    continue
                entry = following.setdefault((*prefix, k), [-math.inf, -math.inf, lm_log_prob + lm_step(prefix, k)])
                entry[1] = _logadd(entry[1], extension)
        score = {x: _logadd(p_b, p_nb) + alpha * lm_x + beta * len(x) for x, (p_b, p_nb, lm_x) in following.items()}
        ranked = sorted(following, key=lambda x: -score[x])[:beam_width]
        top = score[ranked[0]] if ranked else -math.inf
        beam = {x: tuple(following[x]) for x in ranked if score[x] > -math.inf and score[x] >= top + beam_prune_logp}
    final = {}
    for x, (p_b, p_nb, lm_x) in beam.items():
        with_end = lm_x + lm_step(x, EOS) if lm else 0.0
        final[x] = (_logadd(p_b, p_nb) + alpha * with_end + beta * len(x), _logadd(p_b, p_nb), with_end)
    ranked = sorted(final, key=lambda x: -final[x][0])
    return [(list(x), *final[x]) for x in ranked if final[x][0] >= final[ranked[0]][0] + beam_prune_logp]


# (token_min_logp, beam_prune_logp, LM order, alpha, beta)
SETTINGS = [(-math.inf, -math.inf, None, 0.0, 0.0), (-2.5, -3.0, None, 0.0, 0.0), (-4.0, -math.inf, 2, 0.6, 0.3),
            (-math.inf, -4.0, 3, 1.2, -0.5)]  # fmt: skip


@pytest.mark.parametrize("beam_width", [1, 2, 3, 4])
@pytest.mark.parametrize(("token_min_logp", "beam_prune_logp", "order", "alpha", "beta"), SETTINGS)
def test_narrow_beams_agree_with_a_dict_keyed_prefix_beam_search(beam_width, token_min_logp, beam_prune_logp,
                                                                 order, alpha, beta):  # fmt: skip
    # Narrow beams over long tables: prefixes leave the beam and come back while their extensions stay, most
    # often with few symbols. Scales from flat to peaked tables.
    rng = np.random.default_rng(beam_width)
    for num_symbols, count in [(3, 100), (4, 50), (6, 25)]:
        lengths = rng.integers(0, 61, size=count)
        logits = rng.normal(size=(count, 60, num_symbols)) * rng.uniform(0.3, 3.0, size=(count, 1, 1))
        batch = logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))
        lm = None
        if order:
            sequences = [rng.integers(1, num_symbols, size=rng.integers(0, 6)).tolist() for _ in range(20)]
            lm = SymbolNgramLM.fit(sequences, order=order, symbols=range(1, num_symbols))
        options = dict(token_min_logp=token_min_logp, beam_prune_logp=beam_prune_logp, lm=lm, alpha=alpha, beta=beta)

        found = ctc_prefix_beam_search(batch, lengths, beam_width=beam_width, nbest=beam_width, **options)

        for log_probs, length, hypotheses in zip(batch, lengths, found):
            expected = _dict_beam_search(log_probs[:length], beam_width=beam_width, **options)
            assert len({tuple(h.symbols) for h in hypotheses}) == len(hypotheses)  # one prefix, one entry
            assert [h.symbols for h in hypotheses] == [x for x, *_ in expected]
            got = [(h.score, h.log_prob, h.lm_log_prob) for h in hypotheses]
            np.testing.assert_allclose(got, [scores for _, *scores in expected], **VALUES)


def test_greedy_is_the_collapse_of_the_most_probable_path():
    batch = np.stack([_log_probs(5, 4, seed=seed) for seed in range(6)])
    lengths = [5, 4, 3, 5, 1, 0]
    batch[1, 4:] = batch[2, 3:] = batch[4, 1:] = 0.0  # padding: not read

    found = ctc_greedy(torch.tensor(batch, requires_grad=True), torch.tensor(lengths))

    for log_probs, length, labelling in zip(batch, lengths, found):
        paths = itertools.product(range(4), repeat=length)
        best = max(paths, key=lambda path: sum(log_probs[t, k] for t, k in enumerate(path)))
        assert tuple(labelling) == _collapse(best)


@pytest.mark.parametrize("beam_width", [1, 4])
def test_trying_only_the_best_symbol_of_each_frame_is_greedy_decoding(beam_width):
    batch = torch.log_softmax(torch.randn(5, 40, 6, generator=torch.Generator().manual_seed(0)) * 3, dim=-1)
    lengths = torch.tensor([40, 33, 1, 0, 17])

    found = ctc_prefix_beam_search(batch, lengths, beam_width=beam_width, token_min_logp=math.inf)

    assert [h.symbols for [h] in found] == ctc_greedy(batch, lengths)
    best_path = [batch[b, : lengths[b]].max(dim=-1).values.sum().item() for b in range(5)]
    np.testing.assert_allclose([h.log_prob for [h] in found], best_path, rtol=0, atol=1e-5)  # float32 input


@pytest.mark.parametrize("threshold", [-1.0, -2.0])
def test_token_min_logp_keeps_only_the_paths_through_the_tried_symbols(threshold):
    log_probs = _log_probs(6, 4, seed=3, scale=2.5)
    allowed = [[k for k in range(4) if row[k] >= threshold or k == row.argmax()] for row in log_probs]
    assert any(0 not in symbols for symbols in allowed)  # the blank is pruned too
    exact = _labellings(log_probs, allowed)
    ranked = sorted(exact, key=exact.get, reverse=True)

    found = _search(log_probs, beam_width=WIDE, nbest=len(exact), token_min_logp=threshold)

    assert [tuple(h.symbols) for h in found] == ranked
    np.testing.assert_allclose([h.log_prob for h in found], [exact[x] for x in ranked], **VALUES)


@pytest.mark.parametrize("seed", range(5))
def test_beam_prune_logp_of_zero_keeps_only_the_best_prefix_as_a_beam_of_1(seed):
    log_probs = _log_probs(30, 5, seed=seed, scale=1.0)

    pruned = _search(log_probs, beam_width=10, nbest=10, beam_prune_logp=0.0, token_min_logp=-math.inf)
    narrow = _search(log_probs, beam_width=1, token_min_logp=-math.inf)

    assert pruned == narrow


def test_beam_prune_logp_cuts_the_beam_by_score_not_by_width():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(30, 5)) + 4.5 * np.eye(5)[rng.integers(0, 5, size=30)]  # a peaked table
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))

    everything = _search(log_probs, beam_width=10, nbest=10, token_min_logp=-math.inf)
    pruned = _search(log_probs, beam_width=10, nbest=10, beam_prune_logp=-2.0, token_min_logp=-math.inf)

    assert len(everything) == 10 and 1 < len(pruned) < 10
    assert all(h.score >= pruned[0].score - 2.0 for h in pruned)
    assert pruned[0].symbols == everything[0].symbols


def _digit_lm(order):
    rng = np.random.default_rng(order)
    return SymbolNgramLM.fit([rng.choice([1, 1, 2, 3, 3, 3], size=rng.integers(0, 5)).tolist() for _ in range(30)],
                             order=order, symbols=[1, 2, 3])  # fmt: skip


@pytest.mark.parametrize(("order", "alpha", "beta"), [(1, 0.5, 0.0), (2, 1.3, 0.7), (3, 0.8, -0.4), (3, 0.0, 1.0)])
def test_with_a_language_model_the_nbest_are_the_labellings_rescored_by_brute_force(order, alpha, beta):
    lm = _digit_lm(order)
    log_probs = _log_probs(5, 4, seed=order)
    exact = _labellings(log_probs)
    score = {x: exact[x] + alpha * lm.sequence_log_prob(x) + beta * len(x) for x in exact}
    ranked = sorted(score, key=score.get, reverse=True)

    found = _search(log_probs, beam_width=WIDE, nbest=len(exact), token_min_logp=-math.inf, lm=lm, alpha=alpha,
                    beta=beta)  # fmt: skip

    assert [tuple(h.symbols) for h in found] == ranked
    np.testing.assert_allclose([h.score for h in found], [score[x] for x in ranked], **VALUES)
    np.testing.assert_allclose([h.log_prob for h in found], [exact[x] for x in ranked], **VALUES)
    np.testing.assert_allclose([h.lm_log_prob for h in found], [lm.sequence_log_prob(x) for x in ranked], **VALUES)


def test_symbols_outside_the_language_models_vocabulary_are_never_output():
    lm = SymbolNgramLM.fit([[1, 2, 1]], order=2)  # symbols 1 and 2 only
    log_probs = _log_probs(5, 4, seed=9)
    exact = {x: p for x, p in _labellings(log_probs).items() if 3 not in x}
    score = {x: exact[x] + 0.5 * lm.sequence_log_prob(x) for x in exact}

    found = _search(log_probs, beam_width=WIDE, nbest=len(exact), token_min_logp=-math.inf, lm=lm)

    assert [tuple(h.symbols) for h in found] == sorted(score, key=score.get, reverse=True)


def test_an_empty_utterance_is_the_empty_labelling_with_the_end_scored():
    lm = _digit_lm(2)

    [[found]] = ctc_prefix_beam_search(np.zeros((1, 3, 4)), [0], lm=lm, alpha=2.0, beta=1.0)

    end = lm.log_prob([], EOS)  # ln P(</s> | <s>)
    assert found == CTCHypothesis(symbols=[], score=2.0 * end, log_prob=0.0, lm_log_prob=end)


def test_a_batch_with_padding_decodes_as_one_utterance_at_a_time():
    generator = torch.Generator().manual_seed(1)
    batch = torch.log_softmax(torch.randn(4, 50, 11, generator=generator, dtype=torch.float64) * 2, dim=-1)
    lengths = [50, 12, 37, 1]
    options = dict(beam_width=8, nbest=3, lm=_digit_lm(3), alpha=0.4, beta=0.2)
    padded = batch.clone()
    for b, length in enumerate(lengths):
        padded[b, length:] = torch.log_softmax(torch.randn(50 - length, 11, generator=generator), dim=-1)

    together = ctc_prefix_beam_search(padded, torch.tensor(lengths), **options)

    for b, length in enumerate(lengths):
        assert together[b] == _search(batch[b, :length].numpy(), **options)


@pytest.mark.parametrize(("steps", "num_symbols", "labels"), [(5, 3, [1, 2]), (6, 3, [1, 1]), (4, 4, [3, 1, 3]),
                                                              (5, 4, [2]), (3, 3, [])])  # fmt: skip
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forced_alignment_is_the_most_probable_path_of_the_labels(steps, num_symbols, labels, seed):
    log_probs = _log_probs(steps, num_symbols, seed=seed)
    paths = [p for p in itertools.product(range(num_symbols), repeat=steps) if _collapse(p) == tuple(labels)]
    best = max(paths, key=lambda path: sum(log_probs[t, k] for t, k in enumerate(path)))
    runs = [(k, start, start + len(list(run))) for start, k, run in _runs(best) if k != 0]

    assert ctc_forced_alignment(log_probs, labels) == runs


def _runs(path):
    start = 0
    for symbol, run in itertools.groupby(path):
        run = list(run)
        yield start, symbol, run
        start += len(run)


@pytest.mark.parametrize("seed", range(4))
def test_forced_alignment_agrees_with_the_reference_viterbi_on_long_utterances(seed):
    rng = np.random.default_rng(seed)
    log_probs = _log_probs(120, 11, seed=seed, scale=3.0)
    labels = rng.integers(1, 11, size=25)
    labels[5] = labels[4]  # a repeat

    spans = ctc_forced_alignment(torch.tensor(log_probs, dtype=torch.float64), labels)

    path, _ = ctc_best_path(log_probs, labels)
    assert spans == [(k, start, start + len(run)) for start, k, run in _runs(path) if k != 0]
    assert [label for label, _, _ in spans] == labels.tolist()
    assert all(end <= following for (_, _, end), (_, following, _) in zip(spans, spans[1:]))


def test_bad_input_is_a_clear_error():
    log_probs = _log_probs(3, 3)
    with pytest.raises(SeqlabError, match=r"no path of 3 frames has the labels \[1, 1, 2\]"):
        ctc_forced_alignment(log_probs, [1, 1, 2])
    with pytest.raises(SeqlabError, match=r"labels must lie in \[0, 3\) and never be the blank 0"):
        ctc_forced_alignment(log_probs, [0])
    with pytest.raises(SeqlabError, match=r"need 1 <= nbest <= beam_width, got nbest 3 and beam_width 2"):
        ctc_prefix_beam_search(log_probs[None], [3], beam_width=2, nbest=3)
    with pytest.raises(SeqlabError, match=r"lengths must be \(1,\) in \[0, 3\]"):
        ctc_prefix_beam_search(log_probs[None], [4])
    with pytest.raises(SeqlabError, match=r"log_probs must be \(B, T, K\) with K >= 2"):
        ctc_prefix_beam_search(log_probs, [3])
    with pytest.raises(SeqlabError, match="the language model's symbols must be non-blank ids below 3"):
        ctc_prefix_beam_search(log_probs[None], [3], lm=SymbolNgramLM.fit([[0, 1]]))
