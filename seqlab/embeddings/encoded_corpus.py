"""A corpus as one flat array of vocabulary indices, with sentence boundaries.

Training kernels read this layout directly: ``tokens[ends[s-1]:ends[s]]`` is sentence ``s``.
Words outside the vocabulary are removed before training, as word2vec and gensim do, so a context
window reaches past them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from seqlab.embeddings.vocabulary import Vocabulary

_BLOCK_WORDS = 1 << 20  # words encoded per block, to bound the Python lists kept at once


@dataclass(frozen=True)
class EncodedCorpus:
    """Attributes:
    tokens: (N,) int32 vocabulary indices, sentences one after another.
    ends: (S,) int64, the end offset of each sentence in ``tokens`` (non-decreasing).
    raw_words: words in the text before out-of-vocabulary ones were removed.
    """

    tokens: np.ndarray
    ends: np.ndarray
    raw_words: int

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass(frozen=True)
class CountedText:
    """A text read once: its distinct words, their counts, and the text as indices of those words.

    Counting and encoding in one pass reads and splits the text once instead of twice; the
    vocabulary, chosen from the counts afterwards, then re-indexes the text with one array lookup.

    Attributes:
        index: word -> its index here, in order of first appearance.
        counts: (W,) int64, occurrences of each distinct word.
        corpus: the whole text, every word as its index here.
    """

    index: dict[str, int]
    counts: np.ndarray
    corpus: EncodedCorpus

    def word_counts(self) -> dict[str, int]:
        """word -> count, in order of first appearance (as :func:`count_words` gives them)."""
        return dict(zip(self.index, self.counts.tolist()))

    def encoded_with(self, vocabulary: Vocabulary) -> EncodedCorpus:
        """The text as vocabulary indices, words outside the vocabulary removed: equal to
        :func:`encode_corpus` on the same sentences."""
        remap = np.full(len(self.index), -1, np.int32)  # index here -> vocabulary index, -1 if left out
        for word, row in vocabulary.index.items():
            if word in self.index:
                remap[self.index[word]] = row
        tokens = remap[self.corpus.tokens]
        known = tokens >= 0
        kept_before = np.concatenate([[0], np.cumsum(known, dtype=np.int64)])  # (N + 1,)
        return EncodedCorpus(tokens=tokens[known], ends=kept_before[self.corpus.ends], raw_words=self.corpus.raw_words)


def count_and_encode(sentences: Iterable[Sequence[str]]) -> CountedText:
    """Count the words of ``sentences`` and encode them, in one pass."""
    index: dict[str, int] = {}
    first_seen = index.setdefault
    corpus = _encode(sentences, lambda sentence: [first_seen(word, len(index)) for word in sentence])
    return CountedText(index, np.bincount(corpus.tokens, minlength=len(index)).astype(np.int64), corpus)


def encode_corpus(sentences: Iterable[Sequence[str]], vocabulary: Vocabulary) -> EncodedCorpus:
    """Every sentence's vocabulary words as indices; empty sentences (all unknown) are kept as empty."""
    known = vocabulary.index.get
    return _encode(sentences, lambda sentence: [known(word, -1) for word in sentence])


def _encode(sentences: Iterable[Sequence[str]], ids_of: Callable[[Sequence[str]], list[int]]) -> EncodedCorpus:
    """The non-empty sentences as ``ids_of`` numbers their words; negative ids are removed."""
    token_blocks: list[np.ndarray] = []
    end_blocks: list[np.ndarray] = []
    ids: list[int] = []
    lengths: list[int] = []
    offset = 0
    raw_words = 0

    def flush() -> None:
        nonlocal offset
        block = np.array(ids, dtype=np.int32)
        known = block >= 0
        kept_per_sentence = np.add.reduceat(known, np.r_[0, np.cumsum(lengths)[:-1]]) if lengths else []
        token_blocks.append(block[known])
        end_blocks.append(offset + np.cumsum(np.asarray(kept_per_sentence, dtype=np.int64)))
        offset += int(known.sum())
        ids.clear()
        lengths.clear()

    for sentence in sentences:
        if not sentence:
            continue
        ids.extend(ids_of(sentence))
        lengths.append(len(sentence))
        raw_words += len(sentence)
        if len(ids) >= _BLOCK_WORDS:
            flush()
    if lengths:
        flush()
    tokens = np.concatenate(token_blocks) if token_blocks else np.zeros(0, np.int32)
    ends = np.concatenate(end_blocks) if end_blocks else np.zeros(0, np.int64)
    return EncodedCorpus(tokens=tokens, ends=ends, raw_words=raw_words)
