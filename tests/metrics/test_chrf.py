"""chrF and chrF++ equal sacrebleu 2.6.0's to 1e-8, and the F-score is Popović's formula written out."""

from __future__ import annotations

import pytest
import sacrebleu

from seqlab.metrics import chrf_from_statistics, corpus_chrf, sentence_chrf
from tests.metrics.cases import DEGENERATE, random_corpus

TOLERANCE = 1e-8
OPTIONS = [
    {},
    {"word_order": 2},
    {"char_order": 4, "word_order": 1, "beta": 3},
    {"lowercase": True},
    {"whitespace": True},
    {"eps_smoothing": True},
    {"word_order": 2, "eps_smoothing": True, "whitespace": True},
]


def oracle(hypotheses, references, **options):
    metric = sacrebleu.CHRF(**options)
    return metric.corpus_score(hypotheses, references), metric


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("case", sorted(DEGENERATE))
def test_degenerate_inputs_equal_sacrebleu(case, options):
    hypotheses, references = DEGENERATE[case]
    theirs, _ = oracle(hypotheses, references, **options)
    ours = corpus_chrf(hypotheses, references, **options)
    assert (ours.name, ours.score) == (theirs.name, pytest.approx(theirs.score, rel=0, abs=TOLERANCE))


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("seed,streams", [(0, 1), (1, 2), (2, 3)])
def test_random_corpora_equal_sacrebleu(seed, streams, options):
    import seqlab

    hypotheses, references = random_corpus(seed, streams=streams)
    theirs, metric = oracle(hypotheses, references, **options)
    ours = corpus_chrf(hypotheses, references, **options)
    assert ours.score == pytest.approx(theirs.score, rel=0, abs=TOLERANCE)
    expected = str(metric.get_signature()).replace("version:2.6.0", f"version:seqlab-{seqlab.__version__}")
    assert ours.signature == expected


def test_sentence_chrf_equals_sacrebleu():
    hypotheses, (references,) = random_corpus(4, sentences=25)
    for hypothesis, reference in zip(hypotheses, references):
        theirs = sacrebleu.sentence_chrf(hypothesis, [reference], word_order=2)
        assert sentence_chrf(hypothesis, [reference], word_order=2).score == pytest.approx(theirs.score, abs=TOLERANCE)


def test_the_f_score_is_popovics_formula():
    # two orders: P and R averaged over orders, then F_beta = (1 + b^2) P R / (b^2 P + R)
    statistics = [10, 8, 6, 9, 7, 3]  # [hyp, ref, match] per order
    precision, recall = (6 / 10 + 3 / 9) / 2, (6 / 8 + 3 / 7) / 2
    expected = 100 * 5 * precision * recall / (4 * precision + recall)
    assert chrf_from_statistics(statistics, beta=2) == pytest.approx(expected, rel=1e-12)
    per_order = [5 * p * r / (4 * p + r) for p, r in ((6 / 10, 6 / 8), (3 / 9, 3 / 7))]
    assert chrf_from_statistics(statistics, beta=2, eps_smoothing=True) == pytest.approx(50 * sum(per_order), rel=1e-12)
