"""Tagging as a task of the engine: padded sentences, the CRF's (or softmax's) loss, entity F1 as conlleval counts.

A batch is sentences of similar length, padded::

    words   (B, T)     word ids              lengths (B,)
    chars   (B, T, C)  character ids of each word, C the longest word of the batch
    casing  (B, T)     casing classes
    tags    (B, T)     gold tag ids in the training scheme

With ``singleton_unk`` p, every occurrence of a word seen once in the training file is read as
``<unk>`` with probability p in training batches, drawn anew for each batch, as the authors'
released tagger does with p = 0.5 (Lample et al. 2016's code, ``insert_singletons``; the same trick
as Dyer et al. 2015's parser): with ``min_count`` 1, ``<unk>`` is otherwise never trained, yet it
is how every held-out word missing from the vocabulary is read.

An evaluation decodes every held-out sentence (Viterbi with the CRF), writes the tags back in the
files' scheme, and counts entities as conlleval does against the files' own tags, keeping the
counts per type so that processes add them before any score is computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from seqlab.data.padded_batches import BucketedBatches, pad_sequences
from seqlab.metrics.conlleval import conlleval_statistics
from seqlab.metrics.entity_counts import EntityStatistics, entity_scores
from seqlab.tasks.tag.config import DataConfig
from seqlab.tasks.tag.data import SPLITS, TaggingData, retag
from seqlab.training.distributed import SINGLE_PROCESS, ProcessGroup
from seqlab.training.example_task import ExampleTask
from seqlab.training.task import Scores, Selection, Statistics, StepLoss

COUNTS = ("gold", "predicted", "correct")


@dataclass
class TaggingBatch:
    """One batch of sentences, padded, on the model's device."""

    words: torch.Tensor  # (B, T)
    lengths: torch.Tensor  # (B,)
    chars: torch.Tensor  # (B, T, C)
    casing: torch.Tensor  # (B, T)
    tags: torch.Tensor  # (B, T)
    split: str
    indices: list[int]  # the sentences of the split, in batch order


def pad_chars(chars: Sequence[list[list[int]]], padding_id: int) -> torch.Tensor:
    """(B, T, C) character ids of B sentences' words, padded with ``padding_id`` in both T and C."""
    steps = max(len(sentence) for sentence in chars)
    width = max(len(word) for sentence in chars for word in sentence)
    out = torch.full((len(chars), steps, width), padding_id, dtype=torch.long)
    for row, sentence in enumerate(chars):
        for column, word in enumerate(sentence):
            out[row, column, : len(word)] = torch.tensor(word, dtype=torch.long)
    return out


class TaggingTask(ExampleTask):
    """Tagged sentences; the model is selected by held-out entity F1 (conlleval's).

    Args:
        data: the encoded sentences, vocabularies and tags.
        config: the batch size.
        device: where batches go.
        seed: with the epoch, fixes each epoch's batch plan.
        group: this process's place in a distributed run.
    """

    unit = "word"
    headline = "f1"
    selection = Selection("f1", higher_is_better=True)

    def __init__(self, data: TaggingData, config: DataConfig, device: torch.device, *, seed: int,
                 group: ProcessGroup = SINGLE_PROCESS):  # fmt: skip
        plans = {
            split: BucketedBatches(
                [len(example.words) for example in data.examples[split]],
                batch_size=config.batch_size,
                shuffle=split == "train",
                seed=seed,
            )  # fmt: skip
            for split in SPLITS
        }
        super().__init__(plans, group)
        self.data, self.device = data, device
        self.singleton_unk = config.singleton_unk
        self.singletons = torch.tensor(sorted(data.singletons), dtype=torch.long)
        self.statistic_names = ("nll", "words", "tokens", "correct_tags",
                                *(f"{count}:{name}" for name in data.types for count in COUNTS))  # fmt: skip

    def collate(self, split: str, indices: Sequence[int]) -> TaggingBatch:
        examples = [self.data.examples[split][index] for index in indices]
        pad = self.data.word_vocab.pad_id

        def padded(values: list[list[int]]) -> torch.Tensor:
            return pad_sequences([torch.tensor(v) for v in values], padding_value=pad, batch_first=True)[0]

        words, lengths = pad_sequences([torch.tensor(e.words) for e in examples], padding_value=pad, batch_first=True)
        if split == "train" and self.singleton_unk > 0:
            words = self.unknown_singletons(words)
        chars = pad_chars([e.chars for e in examples], self.data.char_vocab.pad_id)
        casing = padded([e.casing for e in examples]) * (words != pad)  # casing class 0 is padding
        tensors = (words, lengths, chars, casing, padded([e.tags for e in examples]))
        return TaggingBatch(*(tensor.to(self.device) for tensor in tensors), split, list(indices))

    def unknown_singletons(self, words: torch.Tensor) -> torch.Tensor:
        """``words`` (B, T), each occurrence of a singleton replaced by ``<unk>`` with probability ``singleton_unk``."""
        chosen = torch.isin(words, self.singletons) & (torch.rand(words.shape) < self.singleton_unk)
        return words.masked_fill(chosen, self.data.word_vocab.unk_id)

    def loss(self, model: nn.Module, batch: TaggingBatch, carry: None) -> StepLoss:
        out = model(batch.words, batch.lengths, chars=batch.chars, casing=batch.casing, tags=batch.tags)
        return StepLoss(objective=out.loss, loss=out.loss.detach(), tokens=out.words)

    def batch_statistics(self, model: nn.Module, batch: TaggingBatch) -> Statistics:
        out = model(batch.words, batch.lengths, chars=batch.chars, casing=batch.casing, tags=batch.tags)
        predicted = self.file_tags(model.decode(out.emissions, out.mask))
        gold = [self.data.sentences[batch.split][index].tags for index in batch.indices]
        counts = conlleval_statistics([list(zip(truth, guess)) for truth, guess in zip(gold, predicted)])
        statistics = {"nll": out.loss.item() * out.words, "words": float(out.words), "tokens": float(counts.tokens),
                      "correct_tags": float(counts.correct_tags)}  # fmt: skip
        for count in COUNTS:
            for name, value in getattr(counts, count).items():
                statistics[f"{count}:{name}"] = float(value)
        return statistics

    def file_tags(self, paths: list[list[int]]) -> list[list[str]]:
        """Decoded tag ids as tags of the files' scheme (a softmax tagger's invalid moves read as conlleval does)."""
        return [retag([self.data.tags[index] for index in path], self.data.file_scheme) for path in paths]

    def scores(self, statistics: Statistics) -> Scores:
        counts = EntityStatistics(
            tokens=round(statistics["tokens"]),
            correct_tags=round(statistics["correct_tags"]),
            **{count: {name: round(statistics.get(f"{count}:{name}", 0.0)) for name in self.data.types}
               for count in COUNTS},
        )  # fmt: skip
        scores = entity_scores(counts)
        return {
            "loss": statistics["nll"] / max(statistics["words"], 1.0),
            "f1": scores.overall.f1,
            "precision": scores.overall.precision,
            "recall": scores.overall.recall,
            "accuracy": scores.accuracy,
            **{f"f1_{name}": type_scores.f1 for name, type_scores in scores.by_type.items()},
        }

    def summary(self, scores: Scores) -> str:
        return (f"loss {scores['loss']:.4f} nats/word | F1 {scores['f1']:.2f} | P {scores['precision']:.2f} "
                f"| R {scores['recall']:.2f} | accuracy {scores['accuracy']:.2f}%")  # fmt: skip
