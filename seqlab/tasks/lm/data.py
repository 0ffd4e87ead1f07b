"""A language-model corpus made ready for training: vocabulary and token ids of each part."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import torch

from seqlab.data.batching import batchify
from seqlab.data.corpus import load_corpus_splits
from seqlab.data.vocab import VOCAB_CLASSES, Vocab
from seqlab.errors import SeqlabError
from seqlab.tasks.lm.config import DataConfig


@dataclass
class LanguageModelData:
    """The encoded parts of a corpus."""

    vocab: Vocab  # built from the training text, or the one a checkpoint was trained with
    train: torch.Tensor  # (N,) token ids
    valid: torch.Tensor  # (N',) held-out token ids
    test: torch.Tensor | None  # (N'',) test token ids, when the corpus has a test file
    source: str  # where the text came from
    fingerprint: dict[str, Any]  # identifies the training and held-out text, saved in config.json

    def describe(self) -> str:
        """One line: token counts and vocabulary size."""
        test = "" if self.test is None else f", {self.test.numel():,} test"
        return (
            f"{self.train.numel():,} training, {self.valid.numel():,} held-out{test} tokens; "
            f"vocabulary of {len(self.vocab):,}"
        )


def prepare_lm_data(config: DataConfig, *, vocab: Vocab | None = None) -> LanguageModelData:
    """Read the corpus ``config`` names, build or check the vocabulary, and encode every part.

    Args:
        config: the corpus, its level (characters or words) and the vocabulary limits.
        vocab: the vocabulary to use (a resumed run's); None builds one from the training text.

    Raises:
        SeqlabError: the corpus cannot be read, or ``vocab`` is of the other level.
    """
    splits = load_corpus_splits(config.corpus, valid_fraction=config.valid_fraction,
                                stdlib_max_chars=config.stdlib_max_chars)  # fmt: skip
    vocab_class = VOCAB_CLASSES[config.level]
    if vocab is None:
        vocab = vocab_class.from_text(splits.train, min_count=config.min_count, max_size=config.max_vocab)
    elif not isinstance(vocab, vocab_class):
        raise SeqlabError(f"the vocabulary is a {type(vocab).__name__}, but level is {config.level!r}")

    def encode(text: str) -> torch.Tensor:
        return torch.tensor(vocab.encode(text), dtype=torch.long)  # (N,)

    digest = hashlib.sha256()
    for part in (splits.train, "\0", splits.valid):
        digest.update(part.encode("utf-8"))
    fingerprint = {"characters": len(splits.train) + len(splits.valid), "sha256": digest.hexdigest()}
    test = None if splits.test is None else encode(splits.test)
    return LanguageModelData(vocab, encode(splits.train), encode(splits.valid), test, splits.source, fingerprint)


def token_streams(tokens: torch.Tensor, batch_size: int, device: torch.device, *, part: str) -> torch.Tensor:
    """``tokens`` cut into ``batch_size`` streams on ``device``: :func:`~seqlab.data.batchify` with a clear error.

    Args:
        part: names the text in the error, e.g. ``"corpus/train.txt: the training text"``.

    Shape:
        tokens ``(N,)`` -> ``(N // B, B)``
    """
    if tokens.numel() < 2 * batch_size:
        raise SeqlabError(
            f"{part} is too short: {tokens.numel():,} tokens cannot fill {batch_size} streams of at least "
            "2 tokens; use a smaller batch size or more text"
        )
    return batchify(tokens, batch_size).to(device)
