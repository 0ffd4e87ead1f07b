"""A tagging run's sentences: read from CoNLL files, their tags rewritten in the training scheme, encoded.

The files' tags are read as conlleval reads them (``seqlab.metrics.entity_spans.lenient_spans``),
so that the spans learnt are the spans scored, and written again in the scheme the model learns
(BIOES by default: Ratinov & Roth 2009 and Lample et al. 2016, §5.2, found it better than IOB).
CoNLL-2003's training file has two sentences whose IOB1 is broken (``O B-MISC``); they are read
as conlleval reads them and counted in :attr:`TaggingData.repaired`.

Each word becomes a word id (looked up with digits replaced by 0 and, optionally, lower-cased),
the ids of its first characters, and its casing class.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqlab.data.conll import TaggedSentence, read_conll
from seqlab.data.sequence_vocab import SPECIAL_TOKENS, SequenceVocab
from seqlab.data.tag_schemes import check_tags, scheme_tags, tags_from_spans
from seqlab.errors import SeqlabError
from seqlab.metrics.entity_spans import lenient_spans
from seqlab.models.word_features import casing_class
from seqlab.tasks.tag.config import DataConfig

SPLITS = ("train", "valid")
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class EncodedSentence:
    """One sentence as the model reads it."""

    words: list[int]  # word ids
    chars: list[list[int]]  # each word's character ids (its first max_word_length characters)
    casing: list[int]  # each word's casing class
    tags: list[int]  # gold tag ids in the training scheme


@dataclass
class TaggingData:
    """The sentences of both splits, encoded, and what encodes them."""

    word_vocab: SequenceVocab
    char_vocab: SequenceVocab
    tags: list[str]  # the training scheme's tags, by id
    types: list[str]  # the entity types of either split, sorted (the keys of the statistics)
    scheme: str  # the scheme the model writes
    file_scheme: str  # the scheme of the files, and of the scores
    sentences: dict[str, list[TaggedSentence]]  # as the files hold them
    examples: dict[str, list[EncodedSentence]]
    repaired: int  # training sentences whose tags broke the file scheme
    singletons: frozenset[int]  # the ids of the words seen exactly once in the training file
    origin: str  # the files, in words
    fingerprint: dict[str, Any]  # identifies the text, saved in config.json

    def describe(self) -> str:
        counts = ", ".join(f"{len(self.sentences[split]):,} {split}" for split in SPLITS)
        repaired = f"; {self.repaired} training sentences with broken {self.file_scheme} read as conlleval does" * bool(
            self.repaired
        )
        return (f"{counts} sentences; {len(self.word_vocab):,} words, {len(self.char_vocab):,} characters, "
                f"{len(self.tags)} {self.scheme} tags ({', '.join(self.types)}){repaired}")  # fmt: skip


def word_key(word: str, config: DataConfig) -> str:
    """The form a word is looked up by: digits as 0 (``zero_digits``), lower-cased (``lowercase``)."""
    if config.zero_digits:
        word = _DIGIT.sub("0", word)
    return word.lower() if config.lowercase else word


def encode_words(words: list[str], word_vocab: SequenceVocab, char_vocab: SequenceVocab,
                 config: DataConfig) -> tuple[list[int], list[list[int]], list[int]]:  # fmt: skip
    """Word ids, character ids and casing classes of a sentence's words."""
    ids = [word_vocab.encode(word_key(word, config))[0] for word in words]
    chars = [char_vocab.encode(word[: config.max_word_length]) for word in words]
    return ids, chars, [casing_class(word) for word in words]


def retag(tags: tuple[str, ...] | list[str], scheme: str) -> list[str]:
    """Tags as conlleval reads them, written in ``scheme``."""
    return tags_from_spans([tuple(span) for span in lenient_spans(list(tags))], len(tags), scheme)


def prepare_tagging_data(config: DataConfig, *, vocabularies: tuple[SequenceVocab, SequenceVocab] | None = None,
                         extra_words: Sequence[str] = (), extra_chars: Sequence[str] = ()) -> TaggingData:  # fmt: skip
    """Read both files of ``config``, and encode them (building the vocabularies unless given).

    Args:
        vocabularies: the word and character vocabularies of a trained model.
        extra_words: words to give ids besides the training words (those of transferred vectors or
            of a tagger to start from, as ``word_key`` writes them).
        extra_chars: characters to give ids besides the training words' (a tagger's to start from).

    Raises:
        SeqlabError: a file is missing or malformed (file and line), or the training file holds no entity.
    """
    train_file, valid_file, file_scheme = config.files()
    folder = Path(config.corpus)
    sentences = {split: read_conll(folder / name, file_scheme) for split, name in zip(SPLITS, (train_file, valid_file))}
    repaired = sum(not _valid(sentence.tags, file_scheme) for sentence in sentences["train"])
    training_tags = [retag(sentence.tags, config.scheme) for sentence in sentences["train"]]
    types = sorted({tag.partition("-")[2] for split in SPLITS for sentence in sentences[split]
                    for tag in sentence.tags if tag != "O"})  # fmt: skip
    trained_types = sorted({tag.partition("-")[2] for tags in training_tags for tag in tags if tag != "O"})
    if not trained_types:
        raise SeqlabError(f"{folder / train_file}: no entity in the training sentences")
    tags = scheme_tags(trained_types, config.scheme)
    if vocabularies is None:
        keys = [" ".join(word_key(word, config) for word in sentence.words) for sentence in sentences["train"]]
        word_vocab = SequenceVocab.from_lines(keys, level="word", min_count=config.min_count)
        char_vocab = SequenceVocab.from_lines(["".join(s.words) for s in sentences["train"]], level="char")
        vocabularies = (_extended(word_vocab, extra_words), _extended(char_vocab, extra_chars))
    word_vocab, char_vocab = vocabularies
    tag_ids = {tag: index for index, tag in enumerate(tags)}
    examples = {}
    for split in SPLITS:
        encoded = []
        for sentence in sentences[split]:
            words, chars, casing = encode_words(list(sentence.words), word_vocab, char_vocab, config)
            gold = [tag_ids.get(tag, tag_ids["O"]) for tag in retag(sentence.tags, config.scheme)]
            encoded.append(EncodedSentence(words, chars, casing, gold))
        examples[split] = encoded
    origin = f"{folder} ({train_file}, {valid_file}; {file_scheme})"
    return TaggingData(word_vocab, char_vocab, tags, types, config.scheme, file_scheme, sentences, examples, repaired,
                       _singletons(examples["train"], word_vocab.unk_id), origin, _fingerprint(sentences))  # fmt: skip


def _extended(vocab: SequenceVocab, extra: Sequence[str]) -> SequenceVocab:
    """``vocab`` with the tokens of ``extra`` it lacks after its own, in the order given."""
    if not extra:
        return vocab
    known = set(vocab.tokens)
    added = [token for token in dict.fromkeys(extra) if token not in known]
    return SequenceVocab([*vocab.tokens[len(SPECIAL_TOKENS) :], *added], level=vocab.level)


def _singletons(examples: list[EncodedSentence], unk_id: int) -> frozenset[int]:
    counts = Counter(word for example in examples for word in example.words)
    return frozenset(word for word, count in counts.items() if count == 1 and word != unk_id)


def _valid(tags: tuple[str, ...], scheme: str) -> bool:
    try:
        check_tags(tags, scheme)
    except SeqlabError:
        return False
    return True


def _fingerprint(sentences: dict[str, list[TaggedSentence]]) -> dict[str, Any]:
    digest = hashlib.sha256()
    for split in SPLITS:
        for sentence in sentences[split]:
            digest.update((" ".join(sentence.words) + "\t" + " ".join(sentence.tags) + "\n").encode("utf-8"))
    return {"sentences": sum(len(sentences[split]) for split in SPLITS), "sha256": digest.hexdigest()}
