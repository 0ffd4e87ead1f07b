"""The symbol n-gram model: interpolated Kneser–Ney worked out by hand, distributions that sum to 1, the dense table.

Tolerances: 1e-12 absolute on log-probabilities and on sums of probabilities (a few float64
operations each).
"""

import doctest
import itertools
import math

import numpy as np
import pytest

import seqlab.decode.symbol_ngram
from seqlab.decode.symbol_ngram import BOS, EOS, SymbolNgramLM
from seqlab.errors import SeqlabError

VALUES = dict(rtol=0, atol=1e-12)


def test_a_bigram_model_worked_out_by_hand():
    # <s> 1 2 </s>, twice, and <s> 2 </s>. Bigram counts: <s>1: 2, 12: 2, 2</s>: 3, <s>2: 1, so n1 = 1 and
    # n2 = 2: D2 = 1 / (1 + 4) = 0.2. Continuation counts N1+(• w): 1: 1 (<s>), 2: 2 (<s>, 1), </s>: 1 (2),
    # so n1 = 2, n2 = 1: D1 = 0.5, and with P0 = 1/3: P1(1) = (0.5 + 0.5 * 3 / 3) / 4 = 0.25,
    # P1(2) = (1.5 + 0.5) / 4 = 0.5, P1(</s>) = 0.25.
    lm = SymbolNgramLM.fit([[1, 2], [1, 2], [2]], order=2)
    expected = {
        (BOS, 1): (2 - 0.2 + 0.2 * 2 * 0.25) / 3,  # c(<s> •) = 3, two symbols follow <s>
        (BOS, 2): (1 - 0.2 + 0.2 * 2 * 0.5) / 3,
        (BOS, EOS): (0.2 * 2 * 0.25) / 3,
        (1, 2): (2 - 0.2 + 0.2 * 1 * 0.5) / 2,
        (1, 1): (0.2 * 1 * 0.25) / 2,
        (1, EOS): (0.2 * 1 * 0.25) / 2,
        (2, EOS): (3 - 0.2 + 0.2 * 1 * 0.25) / 3,
        (2, 1): (0.2 * 1 * 0.25) / 3,
        (2, 2): (0.2 * 1 * 0.5) / 3,
    }

    assert lm.discounts == pytest.approx([0.5, 0.2], abs=1e-15)
    for (previous, symbol), probability in expected.items():
        np.testing.assert_allclose(lm.log_prob([previous], symbol), math.log(probability), **VALUES)
    np.testing.assert_allclose(lm.log_prob([], 1), math.log(expected[BOS, 1]), **VALUES)  # <s> pads the context
    np.testing.assert_allclose(
        lm.sequence_log_prob([1, 2]), math.log(expected[BOS, 1] * expected[1, 2] * expected[2, EOS]), **VALUES
    )


def test_a_trigram_model_worked_out_by_hand_where_the_bigrams_after_bos_keep_their_raw_counts():
    # <s> <s> 1 </s>, twice, <s> <s> 1 2 </s> and <s> <s> 2 </s> (s = <s>, e = </s>). Trigrams: ss1 3, s1e 2,
    # s12 1, 12e 1, ss2 1, s2e 1: n1 = 4, n2 = 1, D3 = 4 / 6. Bigrams: s1 and s2 begin with <s> and keep
    # their raw counts 3 and 1 (as continuation counts both would be 1: only <s> precedes them); 1e 1 (s),
    # 12 1 (s), 2e 2 (1, s): n1 = 3, n2 = 1, D2 = 3 / 5. Unigrams, continuation counts: 1: 1 (s),
    # 2: 2 (s, 1), e: 2 (1, 2): D1 = 1 / (1 + 4) = 0.2, so with P0 = 1/3: P1(1) = (0.8 + 0.2 * 3 / 3) / 5 = 0.2,
    # P1(2) = (1.8 + 0.2) / 5 = 0.4, P1(e) = 0.4.
    lm = SymbolNgramLM.fit([[1], [1], [1, 2], [2]], order=3)
    after_bos = {1: (3 - 0.6 + 0.6 * 2 * 0.2) / 4, 2: (1 - 0.6 + 0.6 * 2 * 0.4) / 4, EOS: 0.6 * 2 * 0.4 / 4}
    after_1 = {1: 0.6 * 2 * 0.2 / 2, 2: (1 - 0.6 + 0.6 * 2 * 0.4) / 2, EOS: (1 - 0.6 + 0.6 * 2 * 0.4) / 2}
    d3 = 4 / 6
    expected = {
        (BOS, BOS, 1): (3 - d3 + d3 * 2 * after_bos[1]) / 4,  # c(ss •) = 4, two symbols follow ss
        (BOS, BOS, 2): (1 - d3 + d3 * 2 * after_bos[2]) / 4,
        (BOS, BOS, EOS): d3 * 2 * after_bos[EOS] / 4,
        (BOS, 1, EOS): (2 - d3 + d3 * 2 * after_1[EOS]) / 3,  # c(s1 •) = 3: s1e 2, s12 1
        (BOS, 1, 2): (1 - d3 + d3 * 2 * after_1[2]) / 3,
        (BOS, 1, 1): d3 * 2 * after_1[1] / 3,
        (2, 1, 2): after_1[2],  # 21 never seen: the bigram of 1 alone
        (2, 2, 1): 0.6 * 1 * 0.2 / 2,  # 22 never seen; after 2 only 2e (count 2): c(2 •) = 2, one type
    }

    assert lm.discounts == pytest.approx([0.2, 0.6, 4 / 6], abs=1e-15)
    assert sum(after_bos.values()) == pytest.approx(1.0, abs=1e-15)
    for (*context, symbol), probability in expected.items():
        np.testing.assert_allclose(lm.log_prob(context, symbol), math.log(probability), **VALUES)
    np.testing.assert_allclose(
        lm.sequence_log_prob([1]), math.log(expected[BOS, BOS, 1] * expected[BOS, 1, EOS]), **VALUES
    )


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_every_distribution_sums_to_one_and_the_table_holds_the_same_numbers(order):
    rng = np.random.default_rng(order)
    sequences = [rng.integers(1, 5, size=rng.integers(0, 7)).tolist() for _ in range(40)]
    lm = SymbolNgramLM.fit(sequences, order=order, symbols=range(1, 6))  # 5 is never seen
    outcomes = [*lm.symbols, EOS]

    table = lm.log_prob_table()

    assert table.shape == (6 ** (order - 1), 6)
    for context in itertools.product([*lm.symbols, BOS], repeat=order - 1):
        log_probs = [lm.log_prob(context, symbol) for symbol in outcomes]
        np.testing.assert_allclose(sum(math.exp(value) for value in log_probs), 1.0, **VALUES)
        np.testing.assert_allclose(table[lm.context_index(context)], log_probs, **VALUES)
        assert lm.log_prob(context, 5) > -math.inf  # an unseen symbol of the vocabulary keeps some mass
    np.testing.assert_allclose(np.exp(table).sum(axis=1), 1.0, **VALUES)


def test_only_the_last_n_minus_1_symbols_matter_and_short_contexts_start_with_bos():
    lm = SymbolNgramLM.fit([[1, 2, 3, 1, 2, 1]] * 2 + [[3, 3, 2]], order=3)

    assert lm.log_prob([3, 3, 1, 2], 1) == lm.log_prob([1, 2], 1)
    assert lm.log_prob([1], 2) == lm.log_prob([BOS, 1], 2) != lm.log_prob([2, 1], 2)
    assert lm.context_index([]) == lm.context_index([BOS, BOS]) == 3 * 4 + 3


def test_frequent_continuations_beat_unseen_ones_and_kneser_ney_counts_contexts():
    # 7 is frequent but only ever after 5; 1, 2, 3 follow many symbols. After an unseen context the
    # lower order (continuation counts) prefers the symbols seen in more contexts.
    sequences = [[5, 7]] * 10 + [[1, 2, 3], [3, 2, 1], [2, 1, 3], [9]]
    lm = SymbolNgramLM.fit(sequences, order=2)

    assert lm.log_prob([5], 7) > math.log(0.9)
    assert lm.log_prob([9], 2) > lm.log_prob([9], 7)  # 9 is followed by </s> only: the rest backs off


def test_symbols_outside_the_vocabulary():
    lm = SymbolNgramLM.fit([[1, 2]], order=2, symbols=[1, 2, 3])

    assert lm.log_prob([1], 4) == -math.inf and lm.log_prob([1], BOS) == -math.inf
    with pytest.raises(SeqlabError, match=r"the context holds symbols outside the vocabulary: \[4\]"):
        lm.log_prob([4], 1)
    with pytest.raises(SeqlabError, match="symbols must be ids >= 0 that cover the training symbols"):
        SymbolNgramLM.fit([[1, 2]], symbols=[1])
    with pytest.raises(SeqlabError, match="order must be at least 1, got 0"):
        SymbolNgramLM.fit([[1]], order=0)


def test_a_table_too_large_is_refused():
    lm = SymbolNgramLM.fit([list(range(40))], order=5)  # 41^5 entries

    with pytest.raises(SeqlabError, match="use a lower order"):
        lm.log_prob_table()


def test_docstring_examples():
    result = doctest.testmod(seqlab.decode.symbol_ngram)

    assert result.attempted > 0 and result.failed == 0
