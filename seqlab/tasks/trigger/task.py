"""Trigger-word detection as a task of the engine: clips made on the fly, weighted BCE per step, event counts.

A batch is clips of one length: their causal log-mel frames ``(B, T, F)`` and the labels of their
output steps ``(B, T // stride)`` (:func:`~seqlab.tasks.trigger.data.step_labels`). The loss is
the binary cross-entropy per output step with the positive steps weighted by ``positive_weight``
(the labels are about 1/8 ones), mean over the steps.

Evaluation runs each clip from the start of a stream (the whole clip at once gives the stream's
outputs), fires by :class:`~seqlab.tasks.trigger.events.FiringRule` and matches the firings to the
triggers (:func:`~seqlab.tasks.trigger.events.match_events`). Per held-out part (unseen
``recordings``, the left-out ``speaker``) it keeps sums that add across batches and processes:
the clips, their seconds of audio, and hits, false alarms and misses at every threshold of
:data:`~seqlab.tasks.trigger.events.CURVE_THRESHOLDS` and at the chosen one. The scores (F1, false
alarms per hour, ...) and the miss / false-alarm curve are computed once from the sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from seqlab.data.padded_batches import BucketedBatches
from seqlab.data.spoken_digits import SAMPLE_RATE
from seqlab.tasks.trigger.config import DataConfig
from seqlab.tasks.trigger.data import PARTS, SPLITS, TriggerData, render_clip, step_labels
from seqlab.tasks.trigger.events import CURVE_THRESHOLDS, FiringRule, event_scores, match_events, refractory_steps
from seqlab.tasks.trigger.features import CausalLogMel
from seqlab.training.distributed import SINGLE_PROCESS, ProcessGroup
from seqlab.training.example_task import ExampleTask
from seqlab.training.task import Scores, Selection, Statistics, StepLoss

_COUNTS = ("hits", "false_alarms", "misses")


@dataclass
class TriggerBatch:
    features: torch.Tensor  # (B, T, F) log-mel frames in dB
    labels: torch.Tensor  # (B, T') 0/1 per output step
    trigger_ends: list[list[float]]  # each clip's trigger end times, seconds
    seconds: list[float]  # each clip's length
    parts: list[str]  # each clip's part of its split


def thresholds(config: DataConfig) -> tuple[float, ...]:
    """The thresholds the evaluation counts at: the curve's and the chosen one, ascending."""
    return tuple(sorted({*CURVE_THRESHOLDS, config.threshold}))


def key(part: str, threshold: float, count: str) -> str:
    """The name of a per-threshold statistic: ``"recordings@0.5:hits"``."""
    return f"{part}@{threshold:g}:{count}"


class TriggerTask(ExampleTask):
    """Clips with the trigger among distractors and noise; the model is selected by event F1 on the clips
    of unseen recordings of the training speakers (the left-out speaker's clips choose nothing)."""

    unit = "clip"
    progress_unit = "frame"  # the epoch is counted in the feature frames of its clips
    headline = "f1"
    selection = Selection("f1_recordings", higher_is_better=True)

    def __init__(self, data: TriggerData, config: DataConfig, device: torch.device, *, stride: int, seed: int,
                 group: ProcessGroup = SINGLE_PROCESS):  # fmt: skip
        self.features = CausalLogMel(config, device)
        plans = {
            split: BucketedBatches(
                [self.features.frames(clip.samples) for clip in data.clips[split]],
                batch_size=config.batch_size,
                shuffle=split == "train",
                seed=seed,
            )  # fmt: skip
            for split in SPLITS
        }
        super().__init__(plans, group)
        self.data, self.config, self.device, self.stride = data, config, device, stride
        self.step_samples = stride * self.features.hop  # Δ in samples
        self.thresholds = thresholds(config)
        self.statistic_names = ("bce", "steps", *(f"{part}:{name}" for part in PARTS.values()
                                                  for name in ("clips", "seconds")),
                                *(key(part, threshold, count) for part in PARTS.values()
                                  for threshold in self.thresholds for count in _COUNTS))  # fmt: skip

    @property
    def step_seconds(self) -> float:
        """Δ: seconds per output step."""
        return self.step_samples / SAMPLE_RATE

    def collate(self, split: str, indices: Sequence[int]) -> TriggerBatch:
        clips = [self.data.clips[split][index] for index in indices]
        features = self.features.of_clips([render_clip(clip, self.data.digits) for clip in clips])  # (B, T, F)
        steps = features.shape[1] // self.stride
        labels = np.stack([step_labels(clip.trigger_ends, steps, self.step_samples, self.config.label_steps)
                           for clip in clips])  # fmt: skip
        return TriggerBatch(features, torch.from_numpy(labels).to(self.device),
                            [[end / SAMPLE_RATE for end in clip.trigger_ends] for clip in clips],
                            [clip.samples / SAMPLE_RATE for clip in clips], [clip.part for clip in clips])  # fmt: skip

    def band_statistics(self, count: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean and deviation of each band over the frames of the first ``count`` training clips: the model's
        fixed input normalisation. Shape: (F,) each, float32."""
        total = square = None
        frames = 0
        clips = self.data.clips["train"][:count]
        for first in range(0, len(clips), self.config.batch_size):
            waves = [render_clip(clip, self.data.digits) for clip in clips[first : first + self.config.batch_size]]
            features = self.features.of_clips(waves).double().flatten(0, 1)  # (B·T, F)
            total = features.sum(0) if total is None else total + features.sum(0)
            square = features.square().sum(0) if square is None else square + features.square().sum(0)
            frames += features.shape[0]
        mean = total / frames
        return mean.float(), (square / frames - mean.square()).clamp_min(0.0).sqrt().float()

    def loss(self, model: nn.Module, batch: TriggerBatch, carry: None) -> StepLoss:
        out = model(batch.features, targets=batch.labels, pos_weight=self.config.positive_weight)
        return StepLoss(objective=out.loss, loss=out.loss.detach(), tokens=batch.labels.numel())

    def batch_statistics(self, model: nn.Module, batch: TriggerBatch) -> Statistics:
        out = model(batch.features, targets=batch.labels, pos_weight=self.config.positive_weight)
        statistics = dict.fromkeys(self.statistic_names, 0.0)
        statistics["bce"] = out.loss.item() * batch.labels.numel()
        statistics["steps"] = float(batch.labels.numel())
        probabilities = torch.sigmoid(out.logits).cpu().numpy()  # (B, T')
        refractory = refractory_steps(self.config.refractory, self.step_seconds)
        for row, ends, seconds, part in zip(probabilities, batch.trigger_ends, batch.seconds, batch.parts):
            statistics[f"{part}:clips"] += 1
            statistics[f"{part}:seconds"] += seconds
            for threshold in self.thresholds:
                fired = FiringRule(threshold, refractory_steps=refractory)(row)
                counts = match_events([(step + 1) * self.step_seconds for step in fired], ends,
                                      before=self.config.hit_before, after=self.config.hit_after)  # fmt: skip
                for count, value in zip(_COUNTS, counts):
                    statistics[key(part, threshold, count)] += value
        return statistics

    def counts(self, statistics: Statistics, threshold: float, parts: Sequence[str] = tuple(PARTS.values())
               ) -> tuple[float, float, float, float]:  # fmt: skip
        """Hits, false alarms, misses and seconds of audio summed over ``parts``, at ``threshold``."""
        sums = [sum(statistics[key(part, threshold, count)] for part in parts) for count in _COUNTS]
        return (*sums, sum(statistics[f"{part}:seconds"] for part in parts))

    def scores(self, statistics: Statistics) -> Scores:
        scores = {"loss": statistics["bce"] / max(statistics["steps"], 1.0),
                  **event_scores(*self.counts(statistics, self.config.threshold))}  # fmt: skip
        for part in PARTS.values():
            if statistics[f"{part}:clips"]:
                for name, value in event_scores(*self.counts(statistics, self.config.threshold, [part])).items():
                    scores[f"{name}_{part}"] = value
        return scores

    def curve(self, statistics: Statistics, parts: Sequence[str] = tuple(PARTS.values())) -> list[dict[str, float]]:
        """The miss rate and false alarms per hour at each threshold, ascending."""
        return [{"threshold": threshold, **event_scores(*self.counts(statistics, threshold, parts))}
                for threshold in self.thresholds]  # fmt: skip

    def summary(self, scores: Scores) -> str:
        parts = " | ".join(f"{part}: F1 {scores[f'f1_{part}']:.3f} FA/h {scores[f'false_alarms_per_hour_{part}']:.1f}"
                           for part in PARTS.values() if f"f1_{part}" in scores)  # fmt: skip
        return (f"loss {scores['loss']:.4f} | F1 {scores['f1']:.3f} (P {scores['precision']:.3f} R "
                f"{scores['recall']:.3f}) | false alarms {scores['false_alarms_per_hour']:.1f}/h "
                f"| {parts}")  # fmt: skip
