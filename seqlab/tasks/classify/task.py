"""Classification as a task of the engine: padded sentences, cross-entropy, accuracy and macro-F1 from confusions.

A batch is sentences of similar length, padded: ``tokens (B, T)``, ``lengths (B,)``, ``labels (B,)``.
An evaluation keeps the confusion counts (reference class × predicted class), which add across
batches and processes; accuracy, macro-F1 and the per-class report are computed from them once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from seqlab.data.padded_batches import BucketedBatches, pad_sequences
from seqlab.tasks.classify.config import DataConfig
from seqlab.tasks.classify.data import SPLITS, ClassificationData
from seqlab.training.distributed import SINGLE_PROCESS, ProcessGroup
from seqlab.training.example_task import ExampleTask
from seqlab.training.task import Scores, Selection, Statistics, StepLoss


@dataclass
class ClassificationBatch:
    tokens: torch.Tensor  # (B, T)
    lengths: torch.Tensor  # (B,)
    labels: torch.Tensor  # (B,)


def confusion_scores(confusion: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-F1 in percent, and each class's F1, from ``confusion[reference, predicted]``.

    A class never predicted has precision 0 and one never in the reference recall 0 (F1 0 either way).
    """
    correct = np.diag(confusion).astype(float)
    predicted, reference = confusion.sum(0), confusion.sum(1)
    precision = np.divide(correct, predicted, out=np.zeros_like(correct), where=predicted > 0)
    recall = np.divide(correct, reference, out=np.zeros_like(correct), where=reference > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(correct), where=total > 0)
    return {"accuracy": 100 * correct.sum() / max(confusion.sum(), 1), "macro_f1": 100 * f1.mean(),
            **{f"f1_{index}": 100 * value for index, value in enumerate(f1)}}  # fmt: skip


class ClassificationTask(ExampleTask):
    """Labelled sentences; the model is selected by held-out accuracy."""

    unit = "sentence"
    progress_unit = "word"  # the epoch is counted in the words of its sentences
    headline = "accuracy"
    selection = Selection("accuracy", higher_is_better=True)

    def __init__(self, data: ClassificationData, config: DataConfig, device: torch.device, *, seed: int,
                 group: ProcessGroup = SINGLE_PROCESS):  # fmt: skip
        plans = {
            split: BucketedBatches(
                [len(words) for words, _ in data.examples[split]],
                batch_size=config.batch_size,
                shuffle=split == "train",
                seed=seed,
            )  # fmt: skip
            for split in SPLITS
        }
        super().__init__(plans, group)
        self.data, self.device, self.classes = data, device, len(data.class_names)
        self.statistic_names = ("nll", "sentences", *(f"confusion:{i}:{j}" for i in range(self.classes)
                                                      for j in range(self.classes)))  # fmt: skip

    def collate(self, split: str, indices: Sequence[int]) -> ClassificationBatch:
        examples = [self.data.examples[split][index] for index in indices]
        tokens, lengths = pad_sequences([torch.tensor(words) for words, _ in examples],
                                        padding_value=self.data.vocab.pad_id, batch_first=True)  # fmt: skip
        labels = torch.tensor([label for _, label in examples])
        return ClassificationBatch(tokens.to(self.device), lengths.to(self.device), labels.to(self.device))

    def loss(self, model: nn.Module, batch: ClassificationBatch, carry: None) -> StepLoss:
        out = model(batch.tokens, batch.lengths, labels=batch.labels)
        return StepLoss(objective=out.loss, loss=out.loss.detach(), tokens=len(batch.labels))

    def batch_statistics(self, model: nn.Module, batch: ClassificationBatch) -> Statistics:
        out = model(batch.tokens, batch.lengths, labels=batch.labels)
        predicted = out.logits.argmax(-1)
        pairs = (batch.labels * self.classes + predicted).bincount(minlength=self.classes**2).tolist()
        statistics = {"nll": out.loss.item() * len(batch.labels), "sentences": float(len(batch.labels))}
        statistics.update({f"confusion:{i}:{j}": float(pairs[i * self.classes + j]) for i in range(self.classes)
                           for j in range(self.classes)})  # fmt: skip
        return statistics

    def confusion(self, statistics: Statistics) -> np.ndarray:
        """(C, C) counts, [reference class, predicted class]."""
        return np.array([[round(statistics[f"confusion:{i}:{j}"]) for j in range(self.classes)]
                         for i in range(self.classes)])  # fmt: skip

    def scores(self, statistics: Statistics) -> Scores:
        return {"loss": statistics["nll"] / max(statistics["sentences"], 1.0),
                **confusion_scores(self.confusion(statistics))}  # fmt: skip

    def summary(self, scores: Scores) -> str:
        return (f"loss {scores['loss']:.4f} nats/sentence | accuracy {scores['accuracy']:.2f}% "
                f"| macro-F1 {scores['macro_f1']:.2f}")  # fmt: skip
