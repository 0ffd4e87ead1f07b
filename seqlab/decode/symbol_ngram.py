"""An n-gram language model over symbol ids (digits, characters), smoothed by interpolated Kneser–Ney.

The CTC prefix beam search (:func:`seqlab.decode.ctc_prefix_beam_search`) asks it for ln P(c | the
last n-1 symbols of a prefix) at every extension and for ln P(</s> | prefix) at the end. A sequence is
padded on the left with n-1 ``<s>`` and ends with ``</s>``, so that every symbol and the end have a
full context of n-1 symbols.

Smoothing is interpolated Kneser–Ney (Kneser and Ney 1995; in the interpolated form of Chen and
Goodman 1999, "An empirical study of smoothing techniques for language modeling", §3), with one
absolute discount D_m per order m. At the highest order the counts are the raw counts c; at every
lower order they are continuation counts, N₁₊(• h w), the number of different symbols seen before h w,
except for the m-grams that begin with ``<s>``, which keep their raw counts, as KenLM (Heafield et al.
2013, "Scalable modified Kneser-Ney language model estimation", §3.1, its adjusted counts) and SRILM
count them. Only the padding ever comes before ``<s>``, so their continuation count would be 1 however
often they occur, and P_m(w | <s> …), what the higher orders back off to at the start of a sequence,
would forget how often each symbol starts one.

    P_m(w | h) = (max(c_m(h w) - D_m, 0) + D_m N₁₊(h •) P_{m-1}(w | h⁻)) / c_m(h •)     if c_m(h •) > 0
               = P_{m-1}(w | h⁻)                                                         otherwise

where h⁻ drops the oldest symbol of h, c_m(h •) = Σ_w c_m(h w), N₁₊(h •) is the number of different w
with c_m(h w) > 0, and below the unigrams P_0(w) = 1 / (|V| + 1), uniform over the symbols and </s>
(so that every symbol of the vocabulary has a probability above 0). Each P_m sums to 1 over w when
0 < D_m ≤ 1, since then every count above 0 gives up exactly D_m. The discount is Ney, Essen and
Kneser's (1994) estimate D_m = n₁ / (n₁ + 2 n₂) from the numbers n₁ and n₂ of m-grams counted once and
twice, kept within [0.1, 1] (no m-gram counted once would make it 0 and leave unseen symbols no mass).

The decoder reads the model as one dense table (:meth:`SymbolNgramLM.log_prob_table`), which limits
(|V| + 1)^n to 2^22 entries: order 6 over ten digits, order 4 over 28 characters.

Example:
    >>> lm = SymbolNgramLM.fit([[1, 2, 3], [1, 2, 2, 3], [2, 3]], order=3)
    >>> lm.symbols, lm.order
    ([1, 2, 3], 3)
    >>> round(sum(math.exp(lm.log_prob([1, 2], w)) for w in [1, 2, 3, EOS]), 12)
    1.0
    >>> lm.log_prob([1], 2) > lm.log_prob([1], 3)
    True
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from seqlab.errors import SeqlabError

BOS = -1  # <s>: the left padding of every context (never predicted)
EOS = -2  # </s>: the end of a sequence (predicted, never in a context)
MAX_TABLE_ENTRIES = 2**22  # the dense table of log_prob_table: 32 MiB of float64
DISCOUNT_RANGE = (0.1, 1.0)


class SymbolNgramLM:
    """An interpolated Kneser–Ney n-gram model over a fixed vocabulary of symbol ids (module docstring).

    Build it with :meth:`fit`. Internally symbol ``symbols[i]`` is index i, and index |V| stands for
    ``<s>`` in a context and for ``</s>`` as an outcome.

    Example:
        >>> lm = SymbolNgramLM.fit([[4, 2], [4, 4, 2]], order=2, symbols=range(1, 11))
        >>> len(lm.symbols), lm.log_prob([4], 2) > lm.log_prob([4], 7) > -math.inf
        (10, True)
    """

    def __init__(self, order: int, symbols: list[int], counts: list[Counter], discounts: list[float]) -> None:
        self.order = order  # n: a symbol is predicted from the n - 1 before it
        self.symbols = symbols  # the vocabulary V, sorted symbol ids
        self.discounts = discounts  # D_m for m = 1 … n
        self._index = {symbol: i for i, symbol in enumerate(symbols)}
        self._index[BOS] = self._index[EOS] = len(symbols)
        self._counts = counts  # counts[m - 1][(h..., w)]: raw at m = n and from <s>, else continuation counts
        self._totals: list[Counter] = [Counter() for _ in counts]  # c_m(h •)
        self._types: list[Counter] = [Counter() for _ in counts]  # N₁₊(h •)
        for m, level in enumerate(counts):
            for ngram, count in level.items():
                self._totals[m][ngram[:-1]] += count
                self._types[m][ngram[:-1]] += 1
        self._table: np.ndarray | None = None

    @classmethod
    def fit(
        cls, sequences: Iterable[Sequence[int]], *, order: int = 3, symbols: Iterable[int] | None = None
    ) -> SymbolNgramLM:
        """Count the n-grams of ``sequences`` (each padded with n-1 ``<s>`` and ended by ``</s>``).

        Args:
            sequences: lists of symbol ids, e.g. digit transcripts.
            order: n, 1 (unigrams) or more.
            symbols: the vocabulary V, every id the model may be asked about (default: the ids seen).
                Give every symbol the recogniser can output: others have probability 0.
        """
        if order < 1:
            raise SeqlabError(f"order must be at least 1, got {order}")
        sequences = [[int(symbol) for symbol in sequence] for sequence in sequences]
        seen = {symbol for sequence in sequences for symbol in sequence}
        vocabulary = sorted(seen if symbols is None else {int(symbol) for symbol in symbols})
        if not seen <= set(vocabulary) or not vocabulary or vocabulary[0] < 0:
            raise SeqlabError(f"symbols must be ids >= 0 that cover the training symbols, got {vocabulary}")
        index = {symbol: i for i, symbol in enumerate(vocabulary)}
        boundary = len(vocabulary)
        counts = [Counter() for _ in range(order)]
        for sequence in sequences:
            padded = [boundary] * (order - 1) + [index[symbol] for symbol in sequence] + [boundary]
            for end in range(order - 1, len(padded)):
                window = tuple(padded[end - order + 1 : end + 1])
                counts[order - 1][window] += 1
                for m in range(2, order):  # the lower m-grams that begin with <s>: raw counts too
                    if window[-m] == boundary:
                        counts[m - 1][window[-m:]] += 1
        for m in range(1, order):  # the others: N₁₊(• h w), the distinct (m+1)-grams that end in h w
            for longer in {window[-(m + 1) :] for window in counts[order - 1]}:
                if m == 1 or longer[1] != boundary:  # (a 1-gram is never <s>: index |V| is </s> there)
                    counts[m - 1][longer[1:]] += 1
        discounts = []
        for level in counts:
            once, twice = sum(c == 1 for c in level.values()), sum(c == 2 for c in level.values())
            estimate = once / (once + 2 * twice) if once + twice else DISCOUNT_RANGE[1]
            discounts.append(min(max(estimate, DISCOUNT_RANGE[0]), DISCOUNT_RANGE[1]))
        return cls(order, vocabulary, counts, discounts)

    def _context(self, context: Sequence[int]) -> tuple[int, ...]:
        """The last n-1 symbols of ``context`` as indices, padded on the left with ``<s>``."""
        tail = list(context)[-(self.order - 1) :] if self.order > 1 else []
        unknown = [symbol for symbol in tail if symbol not in self._index or symbol == EOS]
        if unknown:
            raise SeqlabError(f"the context holds symbols outside the vocabulary: {unknown}")
        boundary = len(self.symbols)
        return (boundary,) * (self.order - 1 - len(tail)) + tuple(self._index[symbol] for symbol in tail)

    def _probability(self, m: int, history: tuple[int, ...], outcome: int) -> float:
        """P_m(w | h) of the module docstring, h the last m - 1 indices of ``history``."""
        lower = 1.0 / (len(self.symbols) + 1) if m == 1 else self._probability(m - 1, history, outcome)
        h = history[len(history) - (m - 1) :] if m > 1 else ()
        total = self._totals[m - 1][h]
        if total == 0:
            return lower
        discount = self.discounts[m - 1]
        count = self._counts[m - 1][(*h, outcome)]
        return (max(count - discount, 0.0) + discount * self._types[m - 1][h] * lower) / total

    def log_prob(self, context: Sequence[int], symbol: int) -> float:
        """ln P(symbol | the last n-1 symbols of ``context``); ``symbol`` may be :data:`EOS`.

        ``context`` is the sequence so far (most recent last); shorter than n-1, it is padded with
        ``<s>``. A symbol outside the vocabulary has probability 0 (-inf).
        """
        history = self._context(context)
        if symbol == BOS or symbol not in self._index:
            return -math.inf
        return math.log(self._probability(self.order, history, self._index[symbol]))

    def sequence_log_prob(self, symbols: Sequence[int]) -> float:
        """ln P(symbols </s>): each symbol given the ones before it, then the end."""
        symbols = list(symbols)
        return sum(self.log_prob(symbols[:i], s) for i, s in enumerate(symbols)) + self.log_prob(symbols, EOS)

    def context_index(self, context: Sequence[int]) -> int:
        """The row of :meth:`log_prob_table` for ``context``: its last n-1 symbols in base |V| + 1, oldest first."""
        index = 0
        for i in self._context(context):
            index = index * (len(self.symbols) + 1) + i
        return index

    def log_prob_table(self) -> np.ndarray:
        """Every ln P(w | h) at once, order by order as the module docstring's recursion, vectorised.

        Shape:
            -> ((|V| + 1)^(n-1), |V| + 1): row :meth:`context_index` (h), column i for ``symbols[i]`` and
            column |V| for ``</s>``; rows of contexts that hold ``<s>`` after a symbol are never used.
        """
        if self._table is not None:
            return self._table
        size = len(self.symbols) + 1
        if size**self.order > MAX_TABLE_ENTRIES:
            raise SeqlabError(f"a dense table of order {self.order} over {size - 1} symbols has {size}^{self.order}"
                              f" entries, more than {MAX_TABLE_ENTRIES}: use a lower order")  # fmt: skip
        probabilities = np.full((1, size), 1.0 / size)  # P_0, one row: the empty context
        for m in range(1, self.order + 1):
            counts = np.zeros((size ** (m - 1), size))
            for ngram, count in self._counts[m - 1].items():
                counts[sum(i * size**p for p, i in enumerate(reversed(ngram[:-1]))), ngram[-1]] = count
            lower = np.tile(probabilities, (size, 1)) if m > 1 else probabilities  # row h -> row h⁻ (h mod size^(m-2))
            total = counts.sum(axis=1, keepdims=True)
            types = (counts > 0).sum(axis=1, keepdims=True)
            discount = self.discounts[m - 1]
            with np.errstate(invalid="ignore", divide="ignore"):
                smoothed = (np.maximum(counts - discount, 0.0) + discount * types * lower) / total
            probabilities = np.where(total > 0, smoothed, lower)
        self._table = np.log(probabilities)
        return self._table
