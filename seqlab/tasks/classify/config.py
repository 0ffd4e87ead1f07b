"""The data settings of a classification run: which treebank files, which labels, which words (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.errors import SeqlabError

LABELS = {
    "fine": ("very negative", "negative", "neutral", "positive", "very positive"),  # SST-5
    "binary": ("negative", "positive"),  # SST-2: neutral sentences dropped
}


@dataclass
class DataConfig:
    """Which labelled sentences, how their words are read, and how they are batched."""

    corpus: str = "sst"  # a folder of Sentiment Treebank files (or its name under $SEQLAB_DATA or the shared data)
    train_file: str = "train.txt"  # the training trees in the folder
    valid_file: str = "dev.txt"  # the held-out trees scored at each evaluation
    labels: str = "fine"  # "fine": the five classes (SST-5); "binary": negative or positive, neutral dropped (SST-2)
    phrases: bool = False  # train on every distinct labelled phrase of the training trees, not only sentences
    lowercase: bool = False  # words are looked up lower-cased
    min_count: int = 1  # training words seen fewer times become <unk>
    vectors: str | None = None  # a word2vec or GloVe file whose vectors start the word embeddings
    batch_size: int = 25  # sentences per batch, at most (Tai et al. 2015: 25)

    def __post_init__(self) -> None:
        if self.labels not in LABELS:
            raise SeqlabError(f"labels must be one of {list(LABELS)}, got {self.labels!r}")
        for name in ("min_count", "batch_size"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")

    @property
    def class_names(self) -> tuple[str, ...]:
        return LABELS[self.labels]
