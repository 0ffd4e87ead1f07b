"""BLEU equals sacrebleu 2.6.0's to 1e-8 (sacrebleu called live as the oracle), and its formula as written out here."""

from __future__ import annotations

import math

import pytest
import sacrebleu

from seqlab.metrics import BLEUStatistics, bleu_from_statistics, corpus_bleu, sentence_bleu, sentence_statistics
from tests.metrics.cases import DEGENERATE, random_corpus

TOLERANCE = 1e-8

# (hypotheses, references, keywords): the smoothing, tokenisation and casing options of sacrebleu's tests
OPTION_TABLE = [
    ({}, "defaults"),
    ({"smooth_method": "none"}, "none"),
    ({"smooth_method": "floor"}, "floor default"),
    ({"smooth_method": "floor", "smooth_value": 0.3}, "floor 0.3"),
    ({"smooth_method": "add-k"}, "add-k default"),
    ({"smooth_method": "add-k", "smooth_value": 2}, "add-k 2"),
    ({"tokenize": "intl"}, "intl"),
    ({"tokenize": "char"}, "char"),
    ({"tokenize": "none"}, "none tokeniser"),
    ({"lowercase": True}, "lowercase"),
    ({"effective_order": True}, "effective order"),
]
SACREBLEU_NAMES = {"effective_order": "use_effective_order"}


def oracle(hypotheses, references, **kwargs):
    return sacrebleu.corpus_bleu(hypotheses, references, **{SACREBLEU_NAMES.get(k, k): v for k, v in kwargs.items()})


@pytest.mark.parametrize("kwargs", [row[0] for row in OPTION_TABLE], ids=[row[1] for row in OPTION_TABLE])
@pytest.mark.parametrize("case", sorted(DEGENERATE))
def test_degenerate_inputs_equal_sacrebleu(case, kwargs):
    hypotheses, references = DEGENERATE[case]
    ours, theirs = corpus_bleu(hypotheses, references, **kwargs), oracle(hypotheses, references, **kwargs)
    assert ours.score == pytest.approx(theirs.score, rel=0, abs=TOLERANCE)
    assert (ours.sys_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)
    if kwargs.get("smooth_method") != "add-k":  # sacrebleu reports add-k's counts with k added
        assert (ours.counts, ours.totals) == (theirs.counts, theirs.totals)
    assert ours.format(signature=False) == str(theirs)


@pytest.mark.parametrize("kwargs", [row[0] for row in OPTION_TABLE], ids=[row[1] for row in OPTION_TABLE])
@pytest.mark.parametrize("seed,streams", [(0, 1), (1, 1), (2, 2), (3, 3)])
def test_random_corpora_equal_sacrebleu(seed, streams, kwargs):
    hypotheses, references = random_corpus(seed, streams=streams)
    ours, theirs = corpus_bleu(hypotheses, references, **kwargs), oracle(hypotheses, references, **kwargs)
    assert ours.score == pytest.approx(theirs.score, rel=0, abs=TOLERANCE)
    assert (ours.sys_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)


@pytest.mark.parametrize("seed", range(3))
def test_sentence_bleu_equals_sacrebleu_sentence_by_sentence(seed):
    hypotheses, (references,) = random_corpus(seed, sentences=30)
    for hypothesis, reference in zip(hypotheses, references):
        for smooth in ("exp", "floor", "add-k", "none"):
            theirs = sacrebleu.sentence_bleu(hypothesis, [reference], smooth_method=smooth)
            ours = sentence_bleu(hypothesis, [reference], smooth_method=smooth)
            assert ours.score == pytest.approx(theirs.score, rel=0, abs=TOLERANCE), (hypothesis, reference, smooth)


def test_per_sentence_statistics_sum_to_the_corpus_and_match_sacrebleu():
    hypotheses, references = random_corpus(5, streams=2)
    rows = sentence_statistics(hypotheses, references)
    metric = sacrebleu.BLEU()
    expected = metric._extract_corpus_statistics(hypotheses, references)  # sacrebleu's per-segment statistics
    assert [row.as_list() for row in rows] == expected
    assert sum(rows) == sentence_statistics(hypotheses, references, per_sentence=False)[0]


def test_the_score_is_the_formula_written_out():
    # Papineni et al.: BLEU = BP * exp(mean log p_n), BP = exp(1 - r / c) when c < r
    statistics = BLEUStatistics(counts=(7, 4, 2, 1), totals=(9, 8, 7, 6), sys_len=9, ref_len=11)
    precisions = [7 / 9, 4 / 8, 2 / 7, 1 / 6]
    expected = 100 * math.exp(1 - 11 / 9) * math.exp(sum(math.log(p) for p in precisions) / 4)
    assert bleu_from_statistics(statistics, smooth_method="none").score == pytest.approx(expected, rel=1e-12)
    # exp smoothing: the k-th order without a match gets precision 1 / (2^k * total)
    statistics = BLEUStatistics(counts=(5, 2, 0, 0), totals=(6, 5, 4, 3), sys_len=6, ref_len=6)
    precisions = [5 / 6, 2 / 5, 1 / (2 * 4), 1 / (4 * 3)]
    expected = 100 * math.exp(sum(math.log(p) for p in precisions) / 4)
    assert bleu_from_statistics(statistics).score == pytest.approx(expected, rel=1e-12)


def test_summed_statistics_give_the_corpus_score():
    hypotheses, references = random_corpus(7)
    halves = [sentence_statistics(hypotheses[:20], [references[0][:20]], per_sentence=False)[0],
              sentence_statistics(hypotheses[20:], [references[0][20:]], per_sentence=False)[0]]  # fmt: skip
    assert bleu_from_statistics(sum(halves)).score == corpus_bleu(hypotheses, references).score


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"smooth_method": "floor"},
        {"smooth_method": "add-k", "smooth_value": 2},
        {"lowercase": True, "tokenize": "intl"},
        {"effective_order": True, "smooth_method": "none"},
    ],
)
def test_signature_is_sacrebleus_with_seqlabs_version(kwargs):
    import seqlab

    hypotheses, references = random_corpus(0, streams=2)
    theirs = sacrebleu.BLEU(**kwargs)
    theirs.corpus_score(hypotheses, references)
    expected = str(theirs.get_signature()).replace("version:2.6.0", f"version:seqlab-{seqlab.__version__}")
    assert corpus_bleu(hypotheses, references, **kwargs).signature == expected


def test_variable_reference_counts_say_var():
    hypotheses, references = DEGENERATE["a missing reference"]
    assert corpus_bleu(hypotheses, references).signature.startswith("nrefs:var|")


def test_misaligned_streams_are_refused():
    with pytest.raises(ValueError, match="1 lines, the hypotheses 2"):
        corpus_bleu(["a", "b"], [["a"]])
