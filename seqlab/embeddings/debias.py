"""Hard debiasing of word vectors (Bolukbasi et al. 2016, "Man is to Computer Programmer as Woman
is to Homemaker?").

Three steps, all on unit vectors:

1. **Identify** the bias direction g: the first principal component of the definitional pairs'
   vectors, each centred on its pair's mean (:func:`bias_direction`).
2. **Neutralise** every word that should not carry gender: drop its component along g and
   re-normalise (:func:`neutralize`).
3. **Equalise** pairs such as (grandmother, grandfather): move both words to the same point ν of
   the neutral subspace plus opposite multiples of g, so that every neutralised word is equally
   far from both (:func:`equalize`).

Words are looked up as written, then in lowercase, so the lowercase lists of
:mod:`seqlab.embeddings.gender_words` also match a lowercase vocabulary when given as ``"Mary"``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from seqlab.embeddings.gender_words import DEFINITIONAL_PAIRS, EQUALIZE_PAIRS, GENDER_SPECIFIC_WORDS
from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.errors import SeqlabError

WordPair = tuple[str, str]
CHUNK_ROWS = 65536  # words neutralised at a time, so a large vocabulary never needs a float64 copy


@dataclass(frozen=True)
class BiasSubspace:
    """The principal components of the definitional pairs' differences.

    Attributes:
        components: (K, D) float64 orthonormal rows, the strongest first. Each is oriented so that
            the first word of the first pair used lies on its positive side of the second word:
            with ``("she", "he")`` first, positive means "towards she".
        explained_variance_ratio: (K,) share of the pairs' total variance along each component.
        pairs: the definitional pairs found in the vocabulary, as vocabulary keys.
        missing_pairs: the pairs skipped because a word is not in the vocabulary.
    """

    components: np.ndarray
    explained_variance_ratio: np.ndarray
    pairs: tuple[WordPair, ...]
    missing_pairs: tuple[WordPair, ...]

    @property
    def direction(self) -> np.ndarray:
        """(D,) the bias direction g, the first component (unit length)."""
        return self.components[0]


@dataclass(frozen=True)
class DebiasResult:
    """What :func:`debias` made.

    Attributes:
        vectors: the debiased vectors, every row unit length (zero rows stay zero); same keys and
            counts as the input.
        direction: (D,) float64 the bias direction g that was removed.
        neutralised: how many words lost their component along g.
        equalised_pairs: the pairs made equidistant from every neutralised word, as vocabulary keys.
    """

    vectors: KeyedVectors
    direction: np.ndarray
    neutralised: int
    equalised_pairs: tuple[WordPair, ...]


def find_word(kv: KeyedVectors, word: str) -> str | None:
    """The vocabulary key for ``word``: the word itself, else its lowercase form, else None."""
    if word in kv:
        return word
    lower = word.lower()
    return lower if lower in kv else None


def bias_direction(
    kv: KeyedVectors, definitional_pairs: Iterable[WordPair] = DEFINITIONAL_PAIRS, n_components: int = 1
) -> BiasSubspace:
    """The bias subspace spanned by the definitional pairs (Bolukbasi et al. 2016, section 5).

    Each pair's unit vectors are centred on the pair's mean; the centred vectors of all pairs are
    stacked and their principal components taken by SVD (the stack already has zero mean).

    Args:
        kv: the word vectors.
        definitional_pairs: ``(first, second)`` pairs; the direction points from second to first.
        n_components: K, how many components to return.

    Returns:
        The subspace; ``.direction`` is g, ``.explained_variance_ratio`` shows how much the first
        component dominates (the paper finds one clear direction).

    Raises:
        SeqlabError: fewer than 2 pairs are in the vocabulary (the missing words are named), the
            pairs' words coincide, or ``n_components`` is out of range.
    """
    found, missing = _resolve_pairs(kv, definitional_pairs)
    if len(found) < 2:
        absent = sorted({word for pair in missing for word in pair if find_word(kv, word) is None})
        raise SeqlabError(
            f"the bias direction needs at least 2 definitional pairs in the vocabulary, found {len(found)}; "
            f"missing words: {', '.join(absent) or 'none'}"
        )
    first, second = _pair_vectors(kv, found)  # (P, D) each
    half_difference = (first - second) / 2  # each word minus its pair's mean is ± this
    centred = np.concatenate([half_difference, -half_difference])  # (2P, D)
    _, singular_values, right_vectors = np.linalg.svd(centred, full_matrices=False)
    variance = singular_values**2
    if variance.sum() == 0:
        raise SeqlabError("the definitional pairs' words have identical vectors: no bias direction")
    if not 1 <= n_components <= len(variance):
        raise SeqlabError(f"n_components must be between 1 and {len(variance)}, got {n_components}")
    components = right_vectors[:n_components].copy()
    components[components @ half_difference[0] < 0] *= -1
    return BiasSubspace(components, variance[:n_components] / variance.sum(), tuple(found), tuple(missing))


def neutralize(vectors: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Remove the component along ``direction`` and re-normalise: w' = (w − (w·g)g) / |w − (w·g)g|.

    Args:
        vectors: (N, D) or (D,) word vectors, unit length as in the paper.
        direction: (D,) the bias direction g (normalised here).

    Returns:
        float64 array of the input's shape; a vector parallel to g becomes zero.
    """
    g = _unit_direction(direction, np.shape(vectors)[-1])
    vectors = np.asarray(vectors, dtype=np.float64)
    neutral = vectors - np.multiply.outer(vectors @ g, g)
    norms = np.linalg.norm(neutral, axis=-1, keepdims=True)
    return neutral / np.where(norms > 0, norms, 1)


def equalize(first: np.ndarray, second: np.ndarray, direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The paper's equalise step for pairs of word vectors.

    With both words normalised, μ = (first + second) / 2 and ν = μ − (μ·g)g, each word becomes
    ν + sqrt(1 − |ν|²) · sign((w − μ)·g) · g: unit length, the same neutral part ν, opposite
    components along g. Both are then equally far from every vector orthogonal to g. When
    (first − second)·g is exactly 0 the sign is undefined; first then takes the positive side.

    Args:
        first: (P, D) or (D,) the first word of each pair.
        second: same shape, the second word.
        direction: (D,) the bias direction g (normalised here).

    Returns:
        ``(first', second')``, float64, the input shape.
    """
    g = _unit_direction(direction, np.shape(first)[-1])
    first, second = _normalised(first), _normalised(second)
    if first.shape != second.shape:
        raise SeqlabError(f"equalize needs pairs of the same shape, got {first.shape} and {second.shape}")
    mean = (first + second) / 2
    neutral = mean - np.multiply.outer(mean @ g, g)  # ν
    along = np.sqrt(np.clip(1 - np.sum(neutral**2, axis=-1), 0, None))  # sqrt(1 − |ν|²)
    side = np.where((first - mean) @ g < 0, -1.0, 1.0)
    offset = np.multiply.outer(side * along, g)
    return neutral + offset, neutral - offset


def debias(
    kv: KeyedVectors,
    *,
    definitional_pairs: Iterable[WordPair] = DEFINITIONAL_PAIRS,
    equalize_pairs: Iterable[WordPair] = EQUALIZE_PAIRS,
    gender_specific_words: Collection[str] = GENDER_SPECIFIC_WORDS,
    neutral_words: Iterable[str] | None = None,
) -> DebiasResult:
    """Hard debiasing: normalise, neutralise, equalise (Bolukbasi et al. 2016, section 6).

    The words neutralised are every vocabulary word whose form as written or in lowercase is not in
    ``gender_specific_words`` or, when ``neutral_words`` is given, only those of them found in the
    vocabulary. Words of an equalised pair are never neutralised: equalising sets them anyway.
    Each equalise pair is tried as written, in lowercase, Title case and UPPER case (as the paper
    does), every variant with both words present is equalised; a word takes part in one pair
    only, the first listed.

    Args:
        kv: the word vectors; left untouched.
        definitional_pairs: pairs defining the direction, see :func:`bias_direction`.
        equalize_pairs: pairs to make equidistant from every neutralised word.
        gender_specific_words: lowercase words that legitimately carry gender.
        neutral_words: the words to neutralise, instead of all non-specific ones; missing ones
            are skipped.

    Returns:
        The new unit vectors, the direction, and what was changed.
    """
    direction = bias_direction(kv, definitional_pairs).direction
    vectors = np.array(kv.unit_vectors)  # (V, D) float32, a copy changed in place
    equalised = _equalize_rows(kv, equalize_pairs)
    neutral_rows = _neutral_rows(kv, gender_specific_words, neutral_words) - {row for pair in equalised for row in pair}
    neutral_rows = np.array(sorted(neutral_rows), dtype=np.int64)
    for start in range(0, len(neutral_rows), CHUNK_ROWS):
        rows = neutral_rows[start : start + CHUNK_ROWS]
        vectors[rows] = neutralize(vectors[rows], direction)
    if equalised:
        first_rows, second_rows = np.array(equalised, dtype=np.int64).T
        vectors[first_rows], vectors[second_rows] = equalize(vectors[first_rows], vectors[second_rows], direction)
    keys = kv.index_to_key
    return DebiasResult(
        vectors=KeyedVectors(keys, vectors, counts=kv.counts),
        direction=direction,
        neutralised=len(neutral_rows),
        equalised_pairs=tuple((keys[i], keys[j]) for i, j in equalised),
    )


def bias_projection(kv: KeyedVectors, words: Sequence[str], direction: np.ndarray) -> dict[str, float]:
    """The cosine of each word's vector with the bias direction: how gendered it is, in [−1, 1].

    Raises:
        SeqlabError: a word is not in the vocabulary (all missing words are named).
    """
    g = _unit_direction(direction, kv.vector_size)
    keys = {word: find_word(kv, word) for word in words}
    missing = [word for word, key in keys.items() if key is None]
    if missing:
        raise SeqlabError(f"not in the vocabulary ({len(missing)} words): {', '.join(missing)}")
    unit = kv.unit_vectors
    return {word: float(unit[kv.key_to_index[key]].astype(np.float64) @ g) for word, key in keys.items()}


def _resolve_pairs(kv: KeyedVectors, pairs: Iterable[WordPair]) -> tuple[list[WordPair], list[WordPair]]:
    """Split ``pairs`` into those found (as vocabulary keys) and those with a missing word."""
    found, missing = [], []
    for pair in pairs:
        keys = tuple(find_word(kv, word) for word in pair)
        if None in keys:
            missing.append(tuple(pair))
        else:
            found.append(keys)
    return found, missing


def _pair_vectors(kv: KeyedVectors, pairs: Sequence[WordPair]) -> tuple[np.ndarray, np.ndarray]:
    """(P, D) float64 unit vectors of the first and of the second words."""
    unit = kv.unit_vectors
    rows = np.array([[kv.key_to_index[a], kv.key_to_index[b]] for a, b in pairs], dtype=np.int64)
    return unit[rows[:, 0]].astype(np.float64), unit[rows[:, 1]].astype(np.float64)


def _neutral_rows(
    kv: KeyedVectors, gender_specific_words: Collection[str], neutral_words: Iterable[str] | None
) -> set[int]:
    """Rows of the given neutral words found, or of every word not gender-specific (as written or lowercase)."""
    if neutral_words is not None:
        keys = (find_word(kv, word) for word in neutral_words)
        return {kv.key_to_index[key] for key in keys if key is not None}
    specific = set(gender_specific_words)
    return {i for i, word in enumerate(kv.index_to_key) if word not in specific and word.lower() not in specific}


def _equalize_rows(kv: KeyedVectors, pairs: Iterable[WordPair]) -> list[tuple[int, int]]:
    """Row pairs to equalise: every case variant of each pair found, each row used once."""
    taken: set[int] = set()
    rows = []
    for first, second in pairs:
        variants = dict.fromkeys((case(first), case(second)) for case in (str, str.lower, str.title, str.upper))
        for a, b in variants:
            i, j = kv.key_to_index.get(a), kv.key_to_index.get(b)
            if i is None or j is None or i == j or i in taken or j in taken:
                continue
            taken.update((i, j))
            rows.append((i, j))
    return rows


def _unit_direction(direction: np.ndarray, size: int) -> np.ndarray:
    """``direction`` as a float64 unit vector of ``size`` entries."""
    g = np.asarray(direction, dtype=np.float64)
    if g.shape != (size,):
        raise SeqlabError(f"the bias direction must have shape ({size},), got {g.shape}")
    norm = np.linalg.norm(g)
    if not np.isfinite(norm) or norm == 0:
        raise SeqlabError("the bias direction must be a finite, non-zero vector")
    return g / norm


def _normalised(vectors: np.ndarray) -> np.ndarray:
    """float64 copy of ``vectors`` with each row scaled to length 1 (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1)
