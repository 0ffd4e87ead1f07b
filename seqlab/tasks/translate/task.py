"""Translation as a task of the engine: padded sentence pairs, teacher-forced loss, BLEU from decoding.

A batch is sentence pairs of similar length (:class:`~seqlab.data.padded_batches.BucketedBatches`
over the longer side of each pair), padded with ``<pad>``::

    source        (B, S)  the source ids, padded; lengths (B,)
    target_input  (B, T)  <bos> y_1 ... y_{n-1}     what the decoder is fed
    targets       (B, T)  y_1 ... y_{n-1} <eos>     what it must predict; <pad> is never scored

An evaluation scores the held-out pairs teacher forced (loss, perplexity) and translates every
source sentence (greedy, or beam search of the objective's width) into text, keeping BLEU's
sufficient statistics and the exact matches, so that processes add them up before any score is
computed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from seqlab.data.padded_batches import BucketedBatches, pad_sequences
from seqlab.metrics.bleu import MAX_NGRAM_ORDER, BLEUStatistics, bleu_from_statistics, corpus_statistics
from seqlab.tasks.translate.config import DataConfig, ObjectiveConfig
from seqlab.tasks.translate.data import SPLITS, TranslationData
from seqlab.tasks.translate.translator import translate_batch
from seqlab.training.distributed import SINGLE_PROCESS, ProcessGroup
from seqlab.training.example_task import ExampleTask
from seqlab.training.task import Scores, Selection, Statistics, StepLoss

COUNT_NAMES = tuple(f"matches_{n}" for n in range(1, MAX_NGRAM_ORDER + 1))
TOTAL_NAMES = tuple(f"ngrams_{n}" for n in range(1, MAX_NGRAM_ORDER + 1))


@dataclass
class TranslationBatch:
    """One batch of sentence pairs, padded, on the model's device."""

    source: torch.Tensor  # (B, S)
    lengths: torch.Tensor  # (B,) real source tokens
    target_input: torch.Tensor  # (B, T)
    targets: torch.Tensor  # (B, T)
    split: str
    indices: list[int]  # the pairs of the split, in batch order


class TranslationTask(ExampleTask):
    """Sentence pairs to translate; the model is selected by held-out BLEU (exact match on dates).

    Args:
        data: the encoded pairs and both vocabularies.
        data_config: batch size and token budget.
        objective: label smoothing, teacher forcing, and how held-out translations are searched.
        device: where batches go.
        seed: with the epoch, fixes each epoch's batch plan.
        group: this process's place in a distributed run.
    """

    unit = "token"
    statistic_names = ("nll", "tokens", "exact", "sentences", "sys_len", "ref_len", *COUNT_NAMES, *TOTAL_NAMES)

    def __init__(self, data: TranslationData, data_config: DataConfig, objective: ObjectiveConfig,
                 device: torch.device, *, seed: int, group: ProcessGroup = SINGLE_PROCESS):  # fmt: skip
        plans = {
            split: BucketedBatches(
                [max(len(source), len(target) + 1) for source, target in data.examples[split]],
                batch_size=data_config.batch_size,
                max_tokens=data_config.max_tokens,
                shuffle=split == "train",
                seed=seed,
            )
            for split in SPLITS
        }
        super().__init__(plans, group)
        self.data, self.objective, self.device = data, objective, device
        self.headline = "exact_match" if data.bleu_tokenize == "char" else "bleu"
        self.selection = Selection(self.headline, higher_is_better=True)

    def collate(self, split: str, indices: Sequence[int]) -> TranslationBatch:
        source_vocab, target_vocab = self.data.source_vocab, self.data.target_vocab
        pairs = [self.data.examples[split][index] for index in indices]
        source, lengths = pad_sequences([torch.tensor(s) for s, _ in pairs], padding_value=source_vocab.pad_id,
                                        batch_first=True)  # fmt: skip
        target_input, _ = pad_sequences([torch.tensor([target_vocab.bos_id, *t]) for _, t in pairs],
                                        padding_value=target_vocab.pad_id, batch_first=True)  # fmt: skip
        targets, _ = pad_sequences([torch.tensor([*t, target_vocab.eos_id]) for _, t in pairs],
                                   padding_value=target_vocab.pad_id, batch_first=True)  # fmt: skip
        device = self.device
        return TranslationBatch(source.to(device), lengths.to(device), target_input.to(device), targets.to(device),
                                split, list(indices))  # fmt: skip

    def loss(self, model: nn.Module, batch: TranslationBatch, carry: None) -> StepLoss:
        out = model(batch.source, batch.lengths, batch.target_input, batch.targets,
                    label_smoothing=self.objective.label_smoothing,
                    teacher_forcing=self.objective.teacher_forcing)  # fmt: skip
        return StepLoss(objective=out.loss, loss=out.nll.detach(), tokens=out.tokens)

    def batch_statistics(self, model: nn.Module, batch: TranslationBatch) -> Statistics:
        out = model(batch.source, batch.lengths, batch.target_input, batch.targets)
        best = [hypotheses[0] for hypotheses in translate_batch(model, batch.source, batch.lengths, self.objective,
                                                                  target_vocab=self.data.target_vocab)]  # fmt: skip
        hypotheses = [self.data.target_vocab.decode(h.tokens) for h in best]
        references = [self.data.references[batch.split][index] for index in batch.indices]
        bleu = corpus_statistics(hypotheses, [references], tokenize=self.data.bleu_tokenize)
        return {
            "nll": out.nll.item() * out.tokens,
            "tokens": float(out.tokens),
            "exact": float(sum(h == r for h, r in zip(hypotheses, references))),
            "sentences": float(len(references)),
            "sys_len": float(bleu.sys_len),
            "ref_len": float(bleu.ref_len),
            **{name: float(value) for name, value in zip(COUNT_NAMES, bleu.counts)},
            **{name: float(value) for name, value in zip(TOTAL_NAMES, bleu.totals)},
        }

    def scores(self, statistics: Statistics) -> Scores:
        loss = statistics["nll"] / max(statistics["tokens"], 1.0)
        bleu = BLEUStatistics(
            counts=tuple(round(statistics[name]) for name in COUNT_NAMES),
            totals=tuple(round(statistics[name]) for name in TOTAL_NAMES),
            sys_len=round(statistics["sys_len"]),
            ref_len=round(statistics["ref_len"]),
        )
        return {
            "loss": loss,
            "perplexity": math.exp(min(loss, 700.0)),
            "bleu": bleu_from_statistics(bleu).score,
            "exact_match": 100.0 * statistics["exact"] / max(statistics["sentences"], 1.0),
        }

    def summary(self, scores: Scores) -> str:
        return (f"loss {scores['loss']:.4f} nats/token | ppl {scores['perplexity']:.2f} | BLEU {scores['bleu']:.2f} "
                f"| exact {scores['exact_match']:.2f}%")  # fmt: skip
