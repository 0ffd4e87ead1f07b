"""A classification run's sentences: Sentiment Treebank trees to (word ids, class) examples.

Held-out examples are always whole sentences, labelled by their root. Training examples are the
sentences, or (``phrases=True``) every distinct phrase of the training trees with its label, as
Tai et al. 2015 (§5.1) train on all the treebank's labelled phrases. With ``labels="binary"``
neutral sentences and phrases are dropped and the rest mapped to negative or positive (SST-2).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqlab.data.sentiment_trees import SentimentTree, binary_class, read_sentiment_trees
from seqlab.data.sequence_vocab import SPECIAL_TOKENS, SequenceVocab
from seqlab.errors import SeqlabError
from seqlab.tasks.classify.config import DataConfig

SPLITS = ("train", "valid")


@dataclass
class ClassificationData:
    """The labelled word sequences of both splits and the vocabulary that encodes them."""

    vocab: SequenceVocab
    texts: dict[str, list[list[str]]]  # split -> each example's words
    examples: dict[str, list[tuple[list[int], int]]]  # split -> (word ids, class)
    class_names: tuple[str, ...]
    origin: str
    fingerprint: dict[str, Any]

    def describe(self) -> str:
        counts = ", ".join(f"{len(self.examples[split]):,} {split}" for split in SPLITS)
        return f"{counts} examples; {len(self.vocab):,} words; {len(self.class_names)} classes"


def word_key(word: str, config: DataConfig) -> str:
    """The form a word is looked up by."""
    return word.lower() if config.lowercase else word


def class_of(label: int, config: DataConfig) -> int | None:
    """The class of a treebank label under ``config.labels`` (None: dropped)."""
    return label if config.labels == "fine" else binary_class(label)


def labelled_examples(trees: list[SentimentTree], config: DataConfig, *, phrases: bool) -> list[tuple[list[str], int]]:
    """(words, class) of each sentence, or of each distinct phrase; those without a class dropped."""
    if not phrases:
        pairs = [(list(tree.words), tree.label) for tree in trees]
    else:
        unique = {(tree.words[start:end], label): None for tree in trees for start, end, label in tree.phrases}
        pairs = [(list(words), label) for words, label in unique]
    return [(words, cls) for words, label in pairs if (cls := class_of(label, config)) is not None]


def prepare_classification_data(config: DataConfig, *, vocab: SequenceVocab | None = None,
                                extra_words: list[str] = ()) -> ClassificationData:  # fmt: skip
    """Read both files of ``config`` and encode them (building the vocabulary unless given).

    Raises:
        SeqlabError: a file is missing or a tree malformed (file, line, character), or a split is empty.
    """
    folder = Path(config.corpus)
    files = dict(zip(SPLITS, (config.train_file, config.valid_file)))
    trees = {split: read_sentiment_trees(folder / name) for split, name in files.items()}
    labelled = {"train": labelled_examples(trees["train"], config, phrases=config.phrases),
                "valid": labelled_examples(trees["valid"], config, phrases=False)}  # fmt: skip
    for split, name in files.items():
        if not labelled[split]:
            raise SeqlabError(f"{folder / name}: no sentence with a {config.labels} label")
    if vocab is None:
        lines = [" ".join(word_key(word, config) for word in words) for words, _ in labelled["train"]]
        vocab = SequenceVocab.from_lines(lines, level="word", min_count=config.min_count)
        if extra_words:
            known = set(vocab.tokens)
            extra = [word for word in dict.fromkeys(extra_words) if word not in known]
            vocab = SequenceVocab([*vocab.tokens[len(SPECIAL_TOKENS) :], *extra], level="word")
    examples = {split: [([word_id(vocab, word_key(word, config)) for word in words], cls)
                        for words, cls in labelled[split]] for split in SPLITS}  # fmt: skip
    origin = f"{folder} ({config.train_file}, {config.valid_file}; {config.labels} labels" + (
        ", all phrases)" if config.phrases else ")"
    )
    texts = {split: [words for words, _ in labelled[split]] for split in SPLITS}
    return ClassificationData(vocab, texts, examples, config.class_names, origin, _fingerprint(trees))


def word_id(vocab: SequenceVocab, word: str) -> int:
    """The id of one word (``<unk>`` if unknown)."""
    ids = vocab.encode(word)
    return ids[0] if len(ids) == 1 else vocab.unk_id  # a word with a space inside (SST's "8 1/2") is unknown


def _fingerprint(trees: dict[str, list[SentimentTree]]) -> dict[str, Any]:
    digest = hashlib.sha256()
    for split in SPLITS:
        for tree in trees[split]:
            digest.update((" ".join(tree.words) + "\t" + repr(tree.phrases) + "\n").encode("utf-8"))
    return {"sentences": sum(len(trees[split]) for split in SPLITS), "sha256": digest.hexdigest()}
