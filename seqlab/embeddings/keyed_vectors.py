"""Trained word vectors, frozen and separate from the trainer that made them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqlab.errors import SeqlabError

WordsOrVectors = str | np.ndarray | Sequence[str | np.ndarray]
"""A word, a (D,) vector, or a sequence of them: the query of a similarity search."""

ANALOGY_METHODS = ("add", "mul")
"""3CosAdd (vector offset, Mikolov et al. 2013) and 3CosMul (Levy & Goldberg 2014)."""

COSMUL_EPSILON = 1e-6
"""Added to the 3CosMul denominator so that a negative word at cosine -1 does not divide by zero."""

_ARGMAX_TOP_K = 16  # top_k picks this many or fewer by repeated argmax, more by sorting


class KeyedVectors:
    """A table of word vectors: lookup by word, most frequent word first.

    Args:
        keys: the words, index -> word.
        vectors: (V, D) the vectors, row ``i`` for ``keys[i]``; stored as float32.
        counts: (V,) corpus counts of the words, or None when unknown (files without counts).

    Example:
        >>> kv = KeyedVectors(["king", "queen"], np.eye(2, dtype=np.float32))
        >>> kv["queen"].tolist()
        [0.0, 1.0]
    """

    def __init__(self, keys: Sequence[str], vectors: np.ndarray, counts: np.ndarray | None = None) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise SeqlabError(f"vectors must be a (words, dimensions) matrix, got shape {vectors.shape}")
        if len(keys) != len(vectors):
            raise SeqlabError(f"{len(keys)} words but {len(vectors)} vectors")
        self.index_to_key: list[str] = list(keys)
        self.key_to_index: dict[str, int] = {key: i for i, key in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise SeqlabError("a word occurs twice among the keys")
        self.vectors = vectors
        self.vectors.flags.writeable = False
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        if self.counts is not None and self.counts.shape != (len(keys),):
            raise SeqlabError(f"counts must have one entry per word ({len(keys)}), got shape {self.counts.shape}")
        self._unit_vectors: np.ndarray | None = None

    @property
    def vector_size(self) -> int:
        """D, the number of dimensions."""
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: object) -> bool:
        return key in self.key_to_index

    def index(self, key: str) -> int:
        """The row of ``key``.

        Raises:
            SeqlabError: the word is not in the vocabulary.
        """
        try:
            return self.key_to_index[key]
        except KeyError:
            raise SeqlabError(f"word {key!r} is not in the vocabulary ({len(self)} words)") from None

    def __getitem__(self, key: str) -> np.ndarray:
        """(D,) the vector of ``key`` (read-only)."""
        return self.vectors[self.index(key)]

    @property
    def unit_vectors(self) -> np.ndarray:
        """(V, D) every vector scaled to length 1 (a zero vector stays zero); computed once."""
        if self._unit_vectors is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            unit = self.vectors / np.where(norms > 0, norms, 1).astype(np.float32)
            unit.flags.writeable = False
            self._unit_vectors = unit
        return self._unit_vectors

    def similarity(self, word_a: str, word_b: str) -> float:
        """Cosine similarity of two words, in [-1, 1]."""
        unit = self.unit_vectors
        return float(np.dot(unit[self.index(word_a)], unit[self.index(word_b)]))

    def most_similar(
        self,
        positive: WordsOrVectors = (),
        negative: WordsOrVectors = (),
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """The words nearest to the mean of ``positive`` minus ``negative`` (3CosAdd), as in gensim.

        Each word contributes its unit vector with weight +1 (positive) or -1 (negative); a raw
        vector contributes itself unscaled. The weighted mean, scaled to length 1, is compared by
        cosine with every candidate; the input words themselves are never returned.

        Args:
            positive: words (or (D,) vectors) to move towards; a single word may be given bare.
            negative: words (or (D,) vectors) to move away from.
            topn: how many words to return.
            restrict_vocab: search only the first (most frequent) this many words; None searches all.

        Returns:
            Up to ``topn`` ``(word, cosine)`` pairs, best first; equal scores keep vocabulary order.

        Raises:
            SeqlabError: a word is unknown, or there is no input at all.

        Example:
            >>> kv = KeyedVectors(["a", "b", "c"], np.array([[1, 0], [1, 1], [0, 1]], dtype=np.float32))
            >>> [word for word, _ in kv.most_similar("a")]
            ['b', 'c']
        """
        positive_items, negative_items = _as_items(positive), _as_items(negative)
        if not positive_items and not negative_items:
            raise SeqlabError("most_similar needs at least one positive or negative word")
        weights = [1.0] * len(positive_items) + [-1.0] * len(negative_items)
        terms = [self._unit_or_raw(item) for item in positive_items + negative_items]
        mean = sum(weight * term for weight, term in zip(weights, terms)) / len(terms)
        query = _unit(np.asarray(mean, dtype=np.float32))
        candidates = self.unit_vectors[: self._search_size(restrict_vocab)]  # (N, D)
        scores = candidates @ query  # (N,)
        return self._best(scores, self._input_rows(positive_items + negative_items), topn)

    def most_similar_cosmul(
        self,
        positive: WordsOrVectors = (),
        negative: WordsOrVectors = (),
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """The words that best solve the multiplicative objective 3CosMul, as in gensim.

        Levy & Goldberg (2014), "Linguistic Regularities in Sparse and Explicit Word Representations",
        equation 4: cosines are shifted to [0, 1] by ``(1 + cos) / 2`` so that one large similarity
        cannot dominate, then ``score = prod(positive) / (prod(negative) + 1e-6)``. Words enter by
        their unit vectors, raw vectors as given.

        Args:
            positive: words (or (D,) vectors) in the numerator; at least one.
            negative: words (or (D,) vectors) in the denominator.
            topn: how many words to return.
            restrict_vocab: search only the first (most frequent) this many words; None searches all.
                (gensim 4.4 accepts this argument but ignores it; here it is honoured.)

        Returns:
            Up to ``topn`` ``(word, score)`` pairs, best first; the input words are never returned.

        Raises:
            SeqlabError: a word is unknown, or no positive word is given.
        """
        positive_items, negative_items = _as_items(positive), _as_items(negative)
        if not positive_items:
            raise SeqlabError("most_similar_cosmul needs at least one positive word")
        candidates = self.unit_vectors[: self._search_size(restrict_vocab)]  # (N, D)

        def shifted_cosines(items: list) -> np.ndarray:  # (len(items), N)
            terms = np.array([self._unit_or_raw(item) for item in items], dtype=np.float32)
            return shifted_cosine(terms.reshape(-1, self.vector_size) @ candidates.T)

        scores = cosmul_scores(shifted_cosines(positive_items), shifted_cosines(negative_items))
        return self._best(scores, self._input_rows(positive_items + negative_items), topn)

    def analogy(self, a: str, b: str, c: str, *, method: str = "add", topn: int = 1) -> list[tuple[str, float]]:
        """Answer "``a`` is to ``b`` as ``c`` is to ?", e.g. ("man", "king", "woman") -> "queen".

        Args:
            a, b, c: the three known words.
            method: ``"add"`` for 3CosAdd (:meth:`most_similar`) or ``"mul"`` for 3CosMul
                (:meth:`most_similar_cosmul`).
            topn: how many answers to return.

        Returns:
            Up to ``topn`` ``(word, score)`` pairs, best first, never ``a``, ``b`` or ``c``.
        """
        if method not in ANALOGY_METHODS:
            raise SeqlabError(f"unknown analogy method {method!r}; choose one of {', '.join(ANALOGY_METHODS)}")
        search = self.most_similar if method == "add" else self.most_similar_cosmul
        return search(positive=[b, c], negative=[a], topn=topn)

    def _unit_or_raw(self, item: str | np.ndarray) -> np.ndarray:
        """(D,) the unit vector of a word, or a raw vector unchanged."""
        if isinstance(item, str):
            return self.unit_vectors[self.index(item)]
        try:
            vector = np.asarray(item, dtype=np.float32)
        except (TypeError, ValueError):
            vector = None
        if vector is None or vector.shape != (self.vector_size,):
            raise SeqlabError(f"a query item must be a word or a ({self.vector_size},) vector, got {item!r}")
        return vector

    def _input_rows(self, items: list) -> np.ndarray:
        """The rows of the words among ``items`` (raw vectors have none)."""
        return np.array([self.index(item) for item in items if isinstance(item, str)], dtype=np.int64)

    def _search_size(self, restrict_vocab: int | None) -> int:
        """How many leading rows a search looks at."""
        if restrict_vocab is None:
            return len(self)
        if restrict_vocab < 1:
            raise SeqlabError(f"restrict_vocab must be a positive number of words or None, got {restrict_vocab}")
        return min(restrict_vocab, len(self))

    def _best(self, scores: np.ndarray, excluded_rows: np.ndarray, topn: int) -> list[tuple[str, float]]:
        """The ``topn`` best-scoring rows of ``scores`` (N,) other than ``excluded_rows``, as (word, score)."""
        scores = scores.copy()
        excluded = excluded_rows[excluded_rows < len(scores)]
        scores[excluded] = -np.inf
        topn = min(topn, len(scores) - len(np.unique(excluded)))
        if topn < 1:
            return []
        rows = top_k(scores[np.newaxis, :], topn)[0]
        return [(self.index_to_key[row], float(scores[row])) for row in rows]


def _as_items(words: WordsOrVectors) -> list:
    """A bare word or (D,) vector as a one-item list; a sequence of them as a list."""
    if isinstance(words, str) or (isinstance(words, np.ndarray) and words.ndim == 1):
        return [words]
    return list(words)


def _unit(vector: np.ndarray) -> np.ndarray:
    """(D,) ``vector`` scaled to length 1; the zero vector stays zero."""
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector


def shifted_cosine(cosines: np.ndarray) -> np.ndarray:
    """Cosines moved from [-1, 1] to [0, 1], so that products of them rank sensibly (3CosMul)."""
    return (1 + cosines) / 2


def cosmul_scores(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """3CosMul scores from shifted cosines.

    Args:
        positive: (P, ...) shifted cosines of the candidates with each positive word.
        negative: (M, ...) shifted cosines with each negative word (M may be 0).

    Returns:
        (...) ``prod(positive) / (prod(negative) + COSMUL_EPSILON)``.
    """
    return np.prod(positive, axis=0) / (np.prod(negative, axis=0) + COSMUL_EPSILON)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """(B, k) the columns of the ``k`` largest scores of each row of ``scores`` (B, N), best first.

    Equal scores are ordered by column, so the more frequent word comes first.
    """
    k = min(k, scores.shape[1])
    if k > _ARGMAX_TOP_K:
        return np.argsort(-scores, axis=1, kind="stable")[:, :k]
    # k passes of argmax (which returns the first maximum) beat a partition's index array by ~10x
    remaining = scores.copy()
    rows = np.arange(len(scores))
    best = np.empty((len(scores), k), dtype=np.int64)
    for rank in range(k):
        best[:, rank] = remaining.argmax(axis=1)
        remaining[rows, best[:, rank]] = -np.inf
    return best
