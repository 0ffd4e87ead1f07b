"""Clipped word n-gram matches of a whole corpus at once (BLEU's statistics, Papineni et al. 2002, §2.1).

A hypothesis n-gram is credited at most as often as it occurs in the reference that has it most often
(the clipped count). Rather than one ``Counter`` of tuples per sentence, every token of the corpus becomes
an integer and each n-gram an integer key that holds its sentence: the key of an n-gram is the rank of its
first n-1 words' key times the vocabulary size plus its last word, so keys stay within int64 at every
order. ``numpy.unique`` then numbers the distinct n-grams of all streams together, ``bincount`` counts them
per stream, and the clipped matches are ``minimum(hypothesis count, max over references)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain, count

import numpy as np


def ngram_matches(
    hypotheses: Sequence[Sequence[str]],
    references: Sequence[Sequence[Sequence[str]]],
    max_order: int,
    *,
    per_sentence: bool,
) -> np.ndarray:
    """Clipped n-gram matches for n = 1..max_order, per sentence or summed over the corpus.

    Args:
        hypotheses: the tokens of each hypothesis.
        references: one stream per reference, each the tokens of each sentence (empty for a missing one).
        max_order: the largest n.
        per_sentence: one row per sentence rather than one row for the corpus.

    Shape:
        Returns ``(S, max_order)`` int64 for S sentences, or ``(1, max_order)``.
    """
    streams = [hypotheses, *references]
    sentences = len(hypotheses)
    vocabulary: dict[str, int] = {}
    numbering = count()  # ids are unique, not dense: setdefault draws one for every token it sees
    tokens = np.fromiter(map(vocabulary.setdefault, chain.from_iterable(chain(*streams)), numbering), dtype=np.int64)
    lengths = np.fromiter(map(len, chain(*streams)), dtype=np.int64, count=sentences * len(streams))
    segment = np.repeat(np.arange(len(lengths)), lengths)  # (T,) which line of which stream
    sentence, stream = segment % sentences if sentences else segment, segment // max(sentences, 1)
    base = len(tokens) + 1  # exceeds every token id and every rank
    rows = np.zeros((sentences if per_sentence else 1, max_order), dtype=np.int64)
    rank = np.zeros(len(tokens), dtype=np.int64)  # (T,) rank of the (n-1)-gram starting at each position
    for n in range(1, max_order + 1):
        # the n-grams start where their first and last tokens lie on the same line
        start = np.flatnonzero(segment[: len(segment) - n + 1] == segment[n - 1 :])
        key = sentence[start] * base + tokens[start] if n == 1 else rank[start] * base + tokens[start + n - 1]
        distinct, inverse = np.unique(key, return_inverse=True)
        rank[start] = inverse
        side = stream[start]
        hypothesis_counts = np.bincount(inverse[side == 0], minlength=len(distinct))
        reference_counts = np.zeros_like(hypothesis_counts)
        for k in range(1, len(streams)):
            np.maximum(reference_counts, np.bincount(inverse[side == k], minlength=len(distinct)), out=reference_counts)
        matched = np.minimum(hypothesis_counts, reference_counts)  # (U,) clipped count of each distinct n-gram
        if per_sentence:
            sentence_of = np.zeros(len(distinct), dtype=np.int64)
            sentence_of[inverse] = sentence[start]
            rows[:, n - 1] = np.bincount(sentence_of, weights=matched, minlength=sentences).astype(np.int64)
        else:
            rows[0, n - 1] = matched.sum()
    return rows
