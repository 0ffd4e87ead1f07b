"""Speech recognition as a task of the engine: utterances made on the fly, CTC loss, WER from edit counts.

A batch is utterances of similar length: their features ``(B, T, F)`` (SpecAugment's masks on
training batches), frame ``lengths (B,)``, and the digit transcripts as CTC targets. Evaluation
decodes (greedily, or as :attr:`SpeechTask.decoding` says: prefix beam search, optionally with a
language model over the digits) and keeps, per held-out
part (unseen ``recordings``, the left-out ``speaker``), sums that add across batches and processes:
the hits, substitutions, deletions and insertions of the alignment to the reference digits, and
the utterances recognised exactly; with isolated digits also the confusions (reference digit ×
recognised digit, or "other" for anything but one digit). WER and accuracy are computed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from seqlab.data.padded_batches import BucketedBatches, pad_sequences
from seqlab.data.spoken_digits import render, samples_of, transcript
from seqlab.decode.ctc import ctc_greedy, ctc_prefix_beam_search
from seqlab.decode.symbol_ngram import SymbolNgramLM
from seqlab.metrics.edit_distance import edit_statistics
from seqlab.tasks.speech.config import DataConfig
from seqlab.tasks.speech.data import BLANK, PARTS, SPLITS, SpeechData, digit_symbol, frames
from seqlab.tasks.speech.features import UtteranceFeatures
from seqlab.training.distributed import SINGLE_PROCESS, ProcessGroup
from seqlab.training.example_task import ExampleTask
from seqlab.training.task import Scores, Selection, Statistics, StepLoss

_COUNTS = ("utterances", "hits", "substitutions", "deletions", "insertions", "exact")  # per part, summed
OTHER = 10  # the predicted "class" of an isolated utterance recognised as anything but one digit


@dataclass
class SpeechBatch:
    features: torch.Tensor  # (B, T, F)
    lengths: torch.Tensor  # (B,) frames
    targets: torch.Tensor  # (B, L) digit symbols, padded with the blank
    target_lengths: torch.Tensor  # (B,)
    parts: list[str]  # each utterance's part of its split


def word_error_percent(hits: float, substitutions: float, deletions: float, insertions: float) -> float:
    """100 (S + D + I) / N with N = H + S + D reference words."""
    return 100 * (substitutions + deletions + insertions) / max(hits + substitutions + deletions, 1.0)


@dataclass(frozen=True)
class Decoding:
    """How outputs become digits: the best path (beam 1, no LM) or prefix beam search (Hannun et al. 2014)."""

    beam: int = 1  # prefixes kept per frame
    lm: SymbolNgramLM | None = None  # a language model over the digit symbols
    alpha: float = 0.5  # the LM's weight α
    beta: float = 0.0  # the bonus β per recognised digit

    def describe(self) -> str:
        if self.beam == 1 and self.lm is None:
            return "greedy"
        lm = f", {self.lm.order}-gram LM (alpha {self.alpha:g}, beta {self.beta:g})" if self.lm is not None else ""
        return f"beam {self.beam}{lm}"


GREEDY = Decoding()


def recognise(log_probs: torch.Tensor, lengths: torch.Tensor, decoding: Decoding = GREEDY) -> list[list[int]]:
    """The symbols of each utterance: the best path, or prefix beam search's best prefix.

    Shape:
        - log_probs: ``(B, T, K)``; lengths: ``(B,)``
    """
    if decoding == GREEDY:
        return ctc_greedy(log_probs, lengths, blank=BLANK)
    found = ctc_prefix_beam_search(log_probs, lengths, beam_width=decoding.beam, blank=BLANK, lm=decoding.lm,
                                   alpha=decoding.alpha, beta=decoding.beta)  # fmt: skip
    return [best[0].symbols for best in found]


class SpeechTask(ExampleTask):
    """Utterances of spoken digits; the model is selected by the word (digit) error rate on the unseen
    recordings of the training speakers, so that the left-out speaker's scores measure a voice that
    chose nothing."""

    unit = "utterance"
    progress_unit = "frame"  # the epoch is counted in the feature frames of its utterances
    headline = "wer"
    selection = Selection("wer_recordings", higher_is_better=False)

    def __init__(self, data: SpeechData, config: DataConfig, device: torch.device, *, seed: int,
                 group: ProcessGroup = SINGLE_PROCESS):  # fmt: skip
        plans = {
            split: BucketedBatches(
                [
                    frames(samples_of(utterance.recipe, data.digits), config.hop_ms)
                    for utterance in data.utterances[split]
                ],
                batch_size=config.batch_size,
                shuffle=split == "train",
                seed=seed,
            )  # fmt: skip
            for split in SPLITS
        }
        super().__init__(plans, group)
        self.data, self.device = data, device
        self.features = UtteranceFeatures(config, device)
        self.decoding = GREEDY  # how evaluations turn outputs into digits
        self.isolated = config.utterances == "isolated"
        confusions = [f"confusion:{i}:{j}" for i in range(10) for j in range(OTHER + 1)] if self.isolated else []
        self.statistic_names = ("nll", *(f"{part}:{count}" for part in PARTS.values() for count in _COUNTS),
                                *confusions)  # fmt: skip

    def collate(self, split: str, indices: Sequence[int]) -> SpeechBatch:
        utterances = [self.data.utterances[split][index] for index in indices]
        waves = [render(utterance.recipe, self.data.digits)[0] for utterance in utterances]
        features, lengths = self.features(waves, augment=split == "train")
        digits = [torch.tensor([digit_symbol(d) for d in transcript(u.recipe, self.data.digits)]) for u in utterances]
        targets, target_lengths = pad_sequences(digits, padding_value=0, batch_first=True)
        return SpeechBatch(features, lengths, targets.to(self.device), target_lengths.to(self.device),
                           [utterance.part for utterance in utterances])  # fmt: skip

    def loss(self, model: nn.Module, batch: SpeechBatch, carry: None) -> StepLoss:
        out = model(batch.features, batch.lengths, targets=batch.targets, target_lengths=batch.target_lengths)
        return StepLoss(objective=out.loss, loss=out.loss.detach(), tokens=len(batch.parts))

    def batch_statistics(self, model: nn.Module, batch: SpeechBatch) -> Statistics:
        out = model(batch.features, batch.lengths, targets=batch.targets, target_lengths=batch.target_lengths)
        hypotheses = recognise(out.log_probs, out.lengths, self.decoding)
        statistics = dict.fromkeys(self.statistic_names, 0.0)
        statistics["nll"] = out.loss.item() * len(batch.parts)
        for part, hypothesis, target, length in zip(batch.parts, hypotheses, batch.targets, batch.target_lengths):
            reference = target[: int(length)].tolist()
            edits = edit_statistics(reference, hypothesis)
            for count in ("hits", "substitutions", "deletions", "insertions"):
                statistics[f"{part}:{count}"] += getattr(edits, count)
            statistics[f"{part}:utterances"] += 1
            statistics[f"{part}:exact"] += float(hypothesis == reference)
            if self.isolated:
                recognised = hypothesis[0] - 1 if len(hypothesis) == 1 else OTHER
                statistics[f"confusion:{reference[0] - 1}:{recognised}"] += 1
        return statistics

    def scores(self, statistics: Statistics) -> Scores:
        def total(count: str) -> float:
            return sum(statistics[f"{part}:{count}"] for part in PARTS.values())

        scores = {"loss": statistics["nll"] / max(total("utterances"), 1.0),
                  "wer": word_error_percent(*(total(count) for count in _COUNTS[1:5])),
                  "accuracy": 100 * total("exact") / max(total("utterances"), 1.0)}  # fmt: skip
        for part in PARTS.values():
            if statistics[f"{part}:utterances"]:
                counts = (statistics[f"{part}:{count}"] for count in _COUNTS[1:5])
                scores[f"wer_{part}"] = word_error_percent(*counts)
                scores[f"accuracy_{part}"] = 100 * statistics[f"{part}:exact"] / statistics[f"{part}:utterances"]
        return scores

    def confusion(self, statistics: Statistics) -> np.ndarray:
        """(10, 11) counts of isolated utterances: [reference digit, recognised digit or OTHER]."""
        return np.array([[round(statistics[f"confusion:{i}:{j}"]) for j in range(OTHER + 1)] for i in range(10)])

    def summary(self, scores: Scores) -> str:
        parts = " | ".join(f"{part}: WER {scores[f'wer_{part}']:.2f}% accuracy {scores[f'accuracy_{part}']:.2f}%"
                           for part in PARTS.values() if f"wer_{part}" in scores)  # fmt: skip
        return f"loss {scores['loss']:.4f} nats/utterance | WER {scores['wer']:.2f}% | {parts}"
