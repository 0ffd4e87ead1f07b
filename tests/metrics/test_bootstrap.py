"""Paired bootstrap resampling gives sacrebleu's resamples, means, intervals and p-values (its seed, its formula)."""

from __future__ import annotations

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest

from seqlab.metrics import (
    BLEUStatistics,
    bleu_from_statistics,
    chrf_from_statistics,
    chrf_statistics,
    paired_bootstrap,
    sentence_statistics,
)
from seqlab.metrics.bootstrap import confidence, resampled_totals
from tests.metrics.cases import corrupt, random_corpus

# sacrebleu sums float32 statistics, which rounds its resampled precisions to float32
FLOAT32_TOLERANCE = 1e-4


def two_systems(seed):
    baseline, references = random_corpus(seed, sentences=60)
    rng = np.random.default_rng(seed)
    system = [corrupt(line, __import__("random").Random(int(rng.integers(1000)))) for line in references[0]]
    return baseline, system, references


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bleu_paired_bootstrap_equals_sacrebleu(seed):
    baseline, system, references = two_systems(seed)
    rows = [[row.as_list() for row in sentence_statistics(hyps, references)] for hyps in (baseline, system)]
    ours = paired_bootstrap(*rows, lambda row: bleu_from_statistics(BLEUStatistics.from_list(row)).score)
    _, theirs = PairedTest([("b", baseline), ("s", system)], {"BLEU": BLEU()}, references, test_type="bs")()
    for mine, their in zip(ours, theirs["BLEU"]):
        assert mine.score == pytest.approx(their.score, abs=1e-8)
        assert mine.mean == pytest.approx(their.mean, abs=FLOAT32_TOLERANCE)
        assert mine.ci == pytest.approx(their.ci, abs=FLOAT32_TOLERANCE)
        assert mine.p_value == their.p_value


def test_chrf_paired_bootstrap_equals_sacrebleu():
    baseline, system, references = two_systems(3)
    rows = [chrf_statistics(hyps, references) for hyps in (baseline, system)]
    ours = paired_bootstrap(*rows, chrf_from_statistics, n_samples=300)
    _, theirs = PairedTest([("b", baseline), ("s", system)], {"chrF": CHRF()}, references, test_type="bs",
                           n_samples=300)()  # fmt: skip
    for mine, their in zip(ours, theirs["chrF2"]):
        assert mine.mean == pytest.approx(their.mean, abs=FLOAT32_TOLERANCE)
        assert mine.p_value == their.p_value


def test_resampled_totals_are_the_sums_of_the_drawn_rows():
    statistics = np.arange(12).reshape(4, 3)
    indices = np.array([[0, 0, 3, 1], [2, 2, 2, 2]])
    expected = np.stack([statistics[row].sum(0) for row in indices])
    np.testing.assert_array_equal(resampled_totals(statistics, indices), expected)


def test_confidence_is_the_mean_and_half_the_95_percent_range():
    scores = np.arange(80.0)  # n // 40 = 2: the 3rd smallest and 3rd largest
    assert confidence(scores[::-1]) == (39.5, 0.5 * (77 - 2))


def test_a_system_against_itself_has_sacrebleus_smallest_count():
    # every resampled difference is 0, none exceeds the actual 0: p = (0 + 1) / (n + 1), as sacrebleu computes it
    baseline, _, references = two_systems(4)
    rows = [row.as_list() for row in sentence_statistics(baseline, references)]
    _, result = paired_bootstrap(rows, rows, lambda row: bleu_from_statistics(BLEUStatistics.from_list(row)).score)
    assert result.p_value == 1 / 1001
