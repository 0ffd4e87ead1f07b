"""What the engine asks of a task: its batches, the loss of one batch, and its evaluation.

A task (language modelling, translation, tagging, ...) is a small object that knows its data
and how its model is called; the engine (:mod:`seqlab.training.loop`) owns everything else
once for all tasks: the optimiser step, clipping, the divergence guard, schedules, weight
averaging, evaluation cadence, checkpoints, logs, limits and data parallelism.

Three things make a task:

1. **Batches** — :meth:`Task.train_batches` yields this process's training batches of an
   epoch from a *position* on. A position is whatever integer says where the epoch is (the
   row of a language model's token streams, the number of padded batches done), saved in
   checkpoints so that a resumed run continues with exactly the next batch.
2. **The loss of one batch** — :meth:`Task.loss` runs the model on a batch and returns what
   to minimise, the reported per-token loss and the number of real tokens it averages over,
   and optionally a state carried to the next batch (a language model's hidden state).
3. **Evaluation** — :meth:`Task.evaluate` returns *sufficient statistics* of a split (sums:
   negative log-likelihood and token counts, correct and total, n-gram counts), which the
   engine adds up over processes before :meth:`Task.scores` turns them into scores. Sums
   add across processes and batches where averages would not.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

Statistics = dict[str, float]  # sufficient statistics: sums that add over batches and processes
Scores = dict[str, float]  # what the statistics give: loss, perplexity, accuracy, BLEU, ...


@dataclass(frozen=True)
class TrainBatch:
    """One training batch of this process and where the epoch stands after it."""

    data: Any  # whatever the task's loss reads: tensors, already on the model's device
    end: int  # the epoch position after this batch: the position to resume from
    last: bool  # this batch ends the epoch
    size: int  # how far it takes the epoch, in the units of Task.progress (tokens of this process)
    lr_scale: float = 1.0  # the learning rate of this step is multiplied by this (AWD-LSTM's variable BPTT)


@dataclass(frozen=True)
class StepLoss:
    """The loss of one batch, as :meth:`Task.loss` returns it."""

    objective: torch.Tensor  # 0-dim: what is minimised, a mean over this process's real tokens plus any penalties
    loss: torch.Tensor  # 0-dim: the reported loss, mean nats per real token (no penalties)
    tokens: int  # the real tokens (predictions) both means are over; padding never counts
    carry: Any = None  # state for the next batch of the same streams; the engine detaches it


@dataclass(frozen=True)
class Selection:
    """The held-out score that picks the best weights and decides NT-ASGD's switch and patience."""

    score: str = "loss"  # a key of Task.scores
    higher_is_better: bool = False

    def worse(self, value: float, than: float) -> bool:
        """Whether ``value`` is strictly worse than ``than``."""
        return value < than if self.higher_is_better else value > than

    def best(self, values: list[float]) -> float:
        return max(values) if self.higher_is_better else min(values)

    def stopped_improving(self, scores: list[float], window: int) -> bool:
        """AWD-LSTM's non-monotone test on the epoch-end scores so far, the newest last.

        Merity et al. (2017, section 3 and their ``main.py``) switch to averaging when
        ``len(prev) > n and val > min(prev[:-n])``, where ``prev`` holds the scores of the
        epochs *before* the current one and ``val`` is the current one: the newest score is
        worse than the best of all previous scores but the last ``n``.
        """
        if not scores:
            return False
        *previous, newest = scores
        return len(previous) > window and self.worse(newest, self.best(previous[:-window]))


LOWEST_LOSS = Selection()  # what a run is selected by unless its task says otherwise


class Task(ABC):
    """The part of a training run that differs from task to task.

    A task is built for one process of a run: with data parallelism it holds that process's
    share of the data (see :mod:`seqlab.training.distributed`).

    Attributes:
        unit: what :attr:`StepLoss.tokens` counts ("word", "char", "token", ...), for logs.
        progress_unit: what :meth:`progress` and :attr:`TrainBatch.size` count, for the progress
            display; None: the same as ``unit``.
        selection: the held-out score the engine compares runs and epochs by.
        headline: the score drawn beside the loss in ``curves.png``.
        equal_shares: every process's batch at every step has the same number of real
            tokens (a language model's equal blocks of streams); otherwise the engine
            exchanges the counts before each backward pass, so that the gradient is that of
            the mean over all processes' real tokens.
    """

    unit: str = "token"
    progress_unit: str | None = None
    selection: Selection = LOWEST_LOSS
    headline: str = "loss"
    equal_shares: bool = False

    @abstractmethod
    def train_batches(self, epoch: int, position: int) -> Iterator[TrainBatch]:
        """This process's training batches of ``epoch`` (from 0), starting at ``position`` (0: the start).

        The batches of a given epoch and position must be the same every time they are asked
        for, given the same random states, so that a resumed run repeats exactly.
        """

    @abstractmethod
    def progress(self, position: int) -> tuple[int, int]:
        """``(done, total)``: the tokens of all processes before ``position`` and in the whole epoch.

        Only the progress display and the fractional epoch of the metrics log read this; a
        batch advances it by :attr:`TrainBatch.size` times the number of processes.
        """

    @abstractmethod
    def steps_per_epoch(self) -> int:
        """Optimiser steps in one epoch (the length of step-counted schedules); an estimate if it varies."""

    @abstractmethod
    def loss(self, model: nn.Module, batch: Any, carry: Any) -> StepLoss:
        """Run ``model`` (in training mode) on ``batch.data`` with the state ``carry`` (None at an epoch start)."""

    @abstractmethod
    def evaluate(self, model: nn.Module, split: str) -> Statistics:
        """This process's sufficient statistics of ``split`` ("valid", "test", ...); the model is in eval mode."""

    @abstractmethod
    def scores(self, statistics: Statistics) -> Scores:
        """The scores of statistics summed over processes; must include :attr:`selection`'s score and "loss"."""

    def summary(self, scores: Scores) -> str:
        """One line for logs, e.g. ``loss 1.2345 nats/char | ppl 3.44``."""
        return " | ".join(f"{name} {value:.4g}" for name, value in scores.items())

    def describe_position(self, position: int) -> str:
        """Where ``position`` is in an epoch, in words, for error messages."""
        return f"batch {position}"

    def gather_carry(self, carry: Any) -> Any:
        """The carried state of every process, for a checkpoint (called on every process)."""
        return carry

    def own_carry(self, carry: Any) -> Any:
        """This process's part of a carried state that :meth:`gather_carry` assembled."""
        return carry
