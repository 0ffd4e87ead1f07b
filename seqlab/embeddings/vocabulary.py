"""The vocabulary of a word-vector model: words sorted by frequency, with their counts.

Index 0 is the most frequent word. Ties keep the order in which words were first seen, so the
same corpus always gives the same indices. Words seen fewer than ``min_count`` times are left out
of the vocabulary and skipped in training, as in word2vec and GloVe.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from seqlab.errors import SeqlabError


def count_words(sentences: Iterable[Sequence[str]]) -> Counter[str]:
    """How often each word occurs in ``sentences`` (insertion order is first appearance)."""
    counts: Counter[str] = Counter()
    for sentence in sentences:
        counts.update(sentence)
    return counts


@dataclass(frozen=True)
class Vocabulary:
    """Words and their corpus counts, most frequent first.

    Attributes:
        words: index -> word.
        counts: (V,) int64, how often each word occurs in the training text.
        index: word -> index.
    """

    words: tuple[str, ...]
    counts: np.ndarray
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.words) != len(self.counts):
            raise SeqlabError(f"vocabulary has {len(self.words)} words but {len(self.counts)} counts")
        object.__setattr__(self, "counts", np.asarray(self.counts, dtype=np.int64))
        object.__setattr__(self, "index", {word: i for i, word in enumerate(self.words)})
        if len(self.index) != len(self.words):
            raise SeqlabError("vocabulary lists a word twice")

    @classmethod
    def from_counts(cls, counts: Counter[str] | dict[str, int], min_count: int = 5, max_size: int | None = None):
        """The words seen at least ``min_count`` times, most frequent first, at most ``max_size`` of them.

        Raises:
            SeqlabError: no word is frequent enough.
        """
        if min_count < 1:
            raise SeqlabError(f"min_count must be at least 1, got {min_count}")
        kept = [(word, count) for word, count in counts.items() if count >= min_count]
        kept.sort(key=lambda item: -item[1])  # stable: ties stay in order of first appearance
        if max_size is not None:
            kept = kept[:max_size]
        if not kept:
            most = max(counts.values(), default=0)
            raise SeqlabError(
                f"no word occurs at least min_count={min_count} times (the most frequent occurs {most} times); "
                "lower --min-count or give more text"
            )
        return cls(tuple(word for word, _ in kept), np.array([count for _, count in kept], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    @property
    def total_count(self) -> int:
        """Occurrences of vocabulary words in the training text (words below min_count excluded)."""
        return int(self.counts.sum())

    def encode(self, words: Sequence[str]) -> np.ndarray:
        """(N,) int32 indices of the vocabulary words among ``words``; other words are dropped."""
        index = self.index
        return np.fromiter((index[w] for w in words if w in index), dtype=np.int32)

    def extended(self, counts: Counter[str] | dict[str, int], min_count: int = 5) -> Vocabulary:
        """This vocabulary with new text's counts added; new words need ``min_count`` occurrences there.

        Existing words keep their indices (their trained vectors stay where they are); new words
        are appended, most frequent first.
        """
        old = dict(zip(self.words, self.counts.tolist()))
        new_words = [(w, c) for w, c in counts.items() if w not in old and c >= min_count]
        new_words.sort(key=lambda item: -item[1])
        merged = [old[w] + counts.get(w, 0) for w in self.words] + [c for _, c in new_words]
        return Vocabulary(self.words + tuple(w for w, _ in new_words), np.array(merged, dtype=np.int64))
