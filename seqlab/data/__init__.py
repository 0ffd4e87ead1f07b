"""Vocabularies, corpora and batching for sequence models."""

from seqlab.data.batching import batchify, get_window, num_windows
from seqlab.data.corpus import (
    Corpus,
    load_corpus,
    load_stdlib_corpus,
    read_text_file,
    split_train_valid,
)
from seqlab.data.vocab import UNK_TOKEN, CharVocab

__all__ = [
    "UNK_TOKEN",
    "CharVocab",
    "Corpus",
    "batchify",
    "get_window",
    "load_corpus",
    "load_stdlib_corpus",
    "num_windows",
    "read_text_file",
    "split_train_valid",
]
