"""Transfer: a task vocabulary's embedding matrix, each row taken from pretrained word vectors where it can be.

A classifier or tagger starts its embedding from vectors trained on a large corpus (word2vec, GloVe)
instead of at random (Collobert et al. 2011; Kim 2014; Tai et al. 2015): :func:`pretrained_matrix`
builds the ``(V, E)`` matrix for the model's vocabulary, which the model then copies in and either
freezes or fine-tunes. NumPy only, so that it runs where torch is not installed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.errors import SeqlabError


def pretrained_matrix(
    words: Sequence[str], vectors: KeyedVectors, *, lowercase_fallback: bool = True, seed: int = 0
) -> tuple[np.ndarray, int]:
    """The embedding matrix of a vocabulary: pretrained rows where the words have vectors, random rows elsewhere.

    Row ``i`` is the vector of ``words[i]`` itself when ``vectors`` has it; otherwise, with
    ``lowercase_fallback``, the vector of ``words[i].lower()`` (so that "Movie" at the start of a
    sentence gets the vector of "movie" from lower-cased vectors such as GloVe 6B; the released tagger
    of Lample et al. 2016 looks words up the same way, exact form first). A word found neither way gets
    a row drawn uniformly from ``[-sqrt(3 / E), sqrt(3 / E)]``: each component has variance ``1 / E``
    and the row an expected squared norm of 1, whatever E is; Ma & Hovy 2016 draw their random
    embeddings from the same range. The random rows are drawn for the whole matrix from ``seed``
    before the found rows are written over them, so a missing word's row depends only on the seed
    and its index, not on which other words were found.

    Special tokens (padding, ``<unk>``) are ordinary words here: they get a random row unless the
    vectors have them. Zeroing the padding row, if wanted, is left to the caller; seqlab's models
    never read padding positions.

    Args:
        words: the vocabulary, index -> word, as the model numbers its token ids.
        vectors: the pretrained vectors (e.g. from :func:`seqlab.embeddings.formats.load_vectors`).
        lowercase_fallback: look up the lower-cased form of a word missing as written.
        seed: seeds the random rows.

    Returns:
        ``(matrix, found)``: ``matrix`` ``(len(words), vectors.vector_size)`` float32, and how many
        words got a pretrained row (as written or lower-cased).

    Raises:
        SeqlabError: none of the words has a vector: the vectors and the vocabulary do not match.

    Example:
        >>> kv = KeyedVectors(["movie", "good"], np.array([[1, 0], [0, 1]], dtype=np.float32))
        >>> matrix, found = pretrained_matrix(["<pad>", "Movie", "good", "bad"], kv)
        >>> found, matrix.shape, matrix.dtype
        (2, (4, 2), dtype('float32'))
        >>> matrix[1:3].tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    size = vectors.vector_size
    bound = np.sqrt(3.0 / size)
    matrix = np.random.default_rng(seed).uniform(-bound, bound, (len(words), size)).astype(np.float32)
    found = 0
    for row, word in enumerate(words):
        index = _vector_index(word, vectors, lowercase_fallback)
        if index is not None:
            matrix[row] = vectors.vectors[index]
            found += 1
    if found == 0:
        fallback = " (nor in lower case)" if lowercase_fallback else ""
        raise SeqlabError(
            f"none of the {len(words)} words looked up has a vector{fallback} among the {len(vectors)} pretrained "
            "words: are they the same language and tokenisation?"
        )
    return matrix, found


def _vector_index(word: str, vectors: KeyedVectors, lowercase_fallback: bool) -> int | None:
    """The row of ``word`` in ``vectors``, as written first, then lower-cased; None if neither."""
    index = vectors.key_to_index.get(word)
    if index is None and lowercase_fallback:
        index = vectors.key_to_index.get(word.lower())
    return index


def rekeyed(vectors: KeyedVectors, key: Callable[[str], str]) -> KeyedVectors:
    """The vectors under the keys a task looks its words up by (digits as 0, lower case, ...).

    Where several words share a key ("1996" and "1997" as "0000"), the first in the file wins: the
    files list the most frequent words first.

    Example:
        >>> kv = KeyedVectors(["The", "the", "1996"], np.eye(3, dtype=np.float32))
        >>> rekeyed(kv, str.lower).index_to_key
        ['the', '1996']
    """
    first: dict[str, int] = {}
    for index, word in enumerate(vectors.index_to_key):
        first.setdefault(key(word), index)
    return KeyedVectors(list(first), vectors.vectors[list(first.values())])
