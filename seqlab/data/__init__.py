"""Vocabularies, corpora and batching for sequence models."""

from seqlab.data.batching import batchify, get_window, num_windows, window_at
from seqlab.data.conll import TaggedSentence, read_conll
from seqlab.data.corpus import (
    Corpus,
    CorpusFiles,
    CorpusSplits,
    find_corpus_files,
    load_corpus_splits,
    load_stdlib_corpus,
    read_text_file,
    split_train_valid,
)
from seqlab.data.padded_batches import (
    BucketedBatches,
    masked_token_mean,
    pack,
    pad_sequences,
    padding_mask,
    unpack,
    unpad_sequences,
)
from seqlab.data.parallel_text import (
    MULTI30K_SPLITS,
    MULTI30K_VARIANTS,
    ParallelFiles,
    ParallelSplits,
    ParallelText,
    find_multi30k_files,
    multi30k_file,
    read_lines,
    read_parallel_text,
)
from seqlab.data.sentiment_trees import SentimentTree, binary_class, read_sentiment_trees
from seqlab.data.sequence_vocab import SequenceVocab
from seqlab.data.subwords import BOS_TOKEN, PAD_TOKEN, SubwordTokenizer, SubwordTrainer
from seqlab.data.tag_schemes import SCHEMES, Span, convert, scheme_tags, spans, transition_masks
from seqlab.data.vocab import EOS_TOKEN, UNK_TOKEN, VOCAB_CLASSES, CharVocab, Vocab, WordVocab, vocab_from_json

__all__ = [
    "BOS_TOKEN",
    "PAD_TOKEN",
    "SequenceVocab",
    "SubwordTokenizer",
    "SubwordTrainer",
    "EOS_TOKEN",
    "UNK_TOKEN",
    "VOCAB_CLASSES",
    "CharVocab",
    "Corpus",
    "CorpusFiles",
    "CorpusSplits",
    "Vocab",
    "WordVocab",
    "batchify",
    "find_corpus_files",
    "get_window",
    "load_corpus_splits",
    "load_stdlib_corpus",
    "num_windows",
    "read_text_file",
    "split_train_valid",
    "vocab_from_json",
    "window_at",
    "BucketedBatches",
    "masked_token_mean",
    "pack",
    "pad_sequences",
    "padding_mask",
    "unpack",
    "unpad_sequences",
    "MULTI30K_SPLITS",
    "MULTI30K_VARIANTS",
    "ParallelFiles",
    "ParallelSplits",
    "ParallelText",
    "find_multi30k_files",
    "multi30k_file",
    "read_lines",
    "read_parallel_text",
    "TaggedSentence",
    "read_conll",
    "SentimentTree",
    "binary_class",
    "read_sentiment_trees",
    "SCHEMES",
    "Span",
    "convert",
    "scheme_tags",
    "spans",
    "transition_masks",
]
