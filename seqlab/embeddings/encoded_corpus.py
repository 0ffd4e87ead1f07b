"""A corpus as one flat array of vocabulary indices, with sentence boundaries.

Training kernels read this layout directly: ``tokens[ends[s-1]:ends[s]]`` is sentence ``s``.
Words outside the vocabulary are removed before training, as word2vec and gensim do, so a context
window reaches past them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


def encode_corpus(sentences: Iterable[Sequence[str]], vocabulary: Vocabulary) -> EncodedCorpus:
    """Every sentence's vocabulary words as indices; empty sentences (all unknown) are kept as empty."""
    index = vocabulary.index
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
        ids.extend([index.get(word, -1) for word in sentence])
        lengths.append(len(sentence))
        raw_words += len(sentence)
        if len(ids) >= _BLOCK_WORDS:
            flush()
    if lengths:
        flush()
    tokens = np.concatenate(token_blocks) if token_blocks else np.zeros(0, np.int32)
    ends = np.concatenate(end_blocks) if end_blocks else np.zeros(0, np.int64)
    return EncodedCorpus(tokens=tokens, ends=ends, raw_words=raw_words)
