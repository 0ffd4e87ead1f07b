"""A translation run's sentences: read (a Multi30k-style folder, or the embedded dates), cut into units, encoded.

Vocabularies are built from the training side only (or given, when a run resumes or a model
translates). The held-out references are kept as text, exactly as the files hold them, because BLEU
scores text: the lower-cased tokenised variant is scored as it is (``tokenize="none"``), the raw
variant and subword units on detokenised text with sacreBLEU's ``13a``, the dates by characters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from seqlab.data.parallel_text import find_multi30k_files
from seqlab.data.sequence_vocab import SequenceVocab
from seqlab.data.subwords import SubwordTokenizer, SubwordTrainer
from seqlab.errors import SeqlabError
from seqlab.tasks.translate.config import DataConfig
from seqlab.tasks.translate.dates import generate_date_splits, model_input

SPLITS = ("train", "valid", "test")
Vocabulary = SequenceVocab | SubwordTokenizer  # both: encode, decode, len, unk/eos/bos/pad ids


@dataclass
class TranslationData:
    """The encoded sentence pairs of every split, their texts, and both vocabularies."""

    source_vocab: Vocabulary
    target_vocab: Vocabulary
    sources: dict[str, list[str]]  # split -> source sentences as the model reads them
    references: dict[str, list[str]]  # split -> target sentences as BLEU scores them
    examples: dict[str, list[tuple[list[int], list[int]]]]  # split -> (source ids, target ids), no specials
    origin: str  # where the sentences came from, in words
    bleu_tokenize: str  # how BLEU cuts the texts: "none", "13a" or "char"
    fingerprint: dict[str, Any]  # identifies the training and held-out text, saved in config.json

    def describe(self) -> str:
        """One line: pairs per split and vocabulary sizes."""
        counts = ", ".join(f"{len(self.examples[split]):,} {split}" for split in SPLITS)
        return f"{counts} sentence pairs; vocabularies {len(self.source_vocab):,} / {len(self.target_vocab):,}"


def read_sentences(config: DataConfig) -> tuple[dict[str, list[str]], dict[str, list[str]], str]:
    """Source and target sentences of each split, and where they came from."""
    if config.corpus is None:
        dates = generate_date_splits(config.dates_seed, train_size=config.dates_train,
                                     valid_size=config.dates_valid, test_size=config.dates_test)  # fmt: skip
        sources = {split: [model_input(source) for source, _ in dates.pairs(split)] for split in SPLITS}
        targets = {split: [target for _, target in dates.pairs(split)] for split in SPLITS}
        return sources, targets, f"human-readable dates to ISO 8601 (generated, seed {config.dates_seed})"
    files = find_multi30k_files(config.corpus, src=config.source_language, tgt=config.target_language,
                                variant=config.variant)  # fmt: skip
    texts = files.read()
    origin = f"{config.corpus} ({config.variant}, {config.source_language} -> {config.target_language})"
    return ({split: texts[split].sources for split in SPLITS}, {split: texts[split].targets for split in SPLITS},
            origin)  # fmt: skip


def build_vocabulary(lines: list[str], config: DataConfig) -> Vocabulary:
    """The units of one side, learnt from its training sentences."""
    if config.units == "subword":
        return SubwordTrainer(vocab_size=config.subword_vocab_size, model_type=config.subword_model).train(lines)
    level = "char" if config.units == "char" or config.corpus is None else "word"
    return SequenceVocab.from_lines(lines, level=level, min_count=1 if config.corpus is None else config.min_count)


def prepare_translation_data(
    config: DataConfig, *, vocabularies: tuple[Vocabulary, Vocabulary] | None = None
) -> TranslationData:
    """Read the sentences ``config`` names and encode them, building the vocabularies unless given.

    Training pairs with a side longer than ``config.max_train_length`` units are left out; held-out
    pairs are all kept. An empty sentence is an error (as is any line the files disagree on).
    """
    sources, references, origin = read_sentences(config)
    if vocabularies is None:
        vocabularies = (build_vocabulary(sources["train"], config), build_vocabulary(references["train"], config))
    source_vocab, target_vocab = vocabularies
    examples = {}
    for split in SPLITS:
        pairs = [(source_vocab.encode(s), target_vocab.encode(t)) for s, t in zip(sources[split], references[split])]
        if split == "train":
            kept = [i for i, (s, t) in enumerate(pairs) if max(len(s), len(t)) <= config.max_train_length]
            if not kept:
                raise SeqlabError(f"{origin}: no training pair is within max_train_length={config.max_train_length}")
            pairs = [pairs[i] for i in kept]
            sources[split], references[split] = [sources[split][i] for i in kept], [references[split][i] for i in kept]
        for index, (s, t) in enumerate(pairs):
            if not s or not t:
                raise SeqlabError(f"{origin}: {split} pair {index + 1} has an empty side after cutting into units")
        examples[split] = pairs
    tokenize = "char" if config.corpus is None else ("none" if config.variant == "tok" else "13a")
    return TranslationData(source_vocab, target_vocab, sources, references, examples, origin, tokenize,
                           _fingerprint(sources, references))  # fmt: skip


def _fingerprint(sources: dict[str, list[str]], references: dict[str, list[str]]) -> dict[str, Any]:
    digest = hashlib.sha256()
    for split in ("train", "valid"):
        for line in (*sources[split], *references[split]):
            digest.update(line.encode("utf-8") + b"\n")
    return {"pairs": len(sources["train"]) + len(sources["valid"]), "sha256": digest.hexdigest()}
