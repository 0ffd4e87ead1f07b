"""What happens at each evaluation: score the held-out split over all processes, record, average, save."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from seqlab.training.config import TrainConfig
from seqlab.training.distributed import SINGLE_PROCESS, ProcessGroup, sum_over_processes
from seqlab.training.optim import learning_rate
from seqlab.training.step import TrainingDiverged
from seqlab.training.task import Scores, Task

if TYPE_CHECKING:
    from seqlab.training.loop import SaveFunction, TrainingRun

HELD_OUT_SPLIT = "valid"


@torch.no_grad()
def evaluate_split(
    task: Task,
    model: nn.Module,
    split: str,
    *,
    group: ProcessGroup = SINGLE_PROCESS,
    device: torch.device | None = None,
) -> Scores:
    """The task's scores of ``split``, from its statistics summed over every process.

    The model is put in eval mode (no dropout) and back.
    """
    was_training = model.training
    model.eval()
    try:
        statistics = task.evaluate(model, split)
    finally:
        model.train(was_training)
    if group.distributed:
        names = sorted(statistics)
        statistics = dict(zip(names, sum_over_processes([statistics[name] for name in names], group, device)))
    return task.scores(statistics)


class EvaluationRecorder:
    """The evaluations of one call to :func:`~seqlab.training.loop.train`, and the training loss between them.

    Each evaluation appends one record to ``run.state.history`` (the lines of
    ``metrics.jsonl``), logs a line, checks NT-ASGD's trigger at epoch ends, and saves.
    """

    def __init__(
        self,
        run: TrainingRun,
        task: Task,
        config: TrainConfig,
        schedule_steps: int,
        *,
        group: ProcessGroup,
        device: torch.device | None,
        log: Callable[[str], None],
        save: SaveFunction | None,
        started: float,
    ):
        self.run, self.task, self.config, self.schedule_steps = run, task, config, schedule_steps
        self.group, self.device, self.log, self.save = group, device, log, save
        self._started, self._seconds_before = started, run.state.seconds  # started: time.monotonic() at the start
        self._loss_sum = 0.0  # nats over this process's training tokens since the last evaluation
        self._tokens = 0

    def count(self, loss: float, tokens: int) -> None:
        """Add a training step's loss (nats per token, over ``tokens``) to the mean reported at the next evaluation."""
        self._loss_sum += loss * tokens
        self._tokens += tokens

    def evaluate_and_save(self, *, epoch_end: bool) -> Scores:
        """Score the held-out split with the weights evaluations use, record it, and save."""
        run, state = self.run, self.run.state
        with run.averager.applied():
            scores = evaluate_split(self.task, run.model, HELD_OUT_SPLIT, group=self.group, device=self.device)
        if not math.isfinite(scores["loss"]):
            raise TrainingDiverged(f"the held-out loss is {scores['loss']} at step {state.step}")
        state.seconds = self._seconds_before + time.monotonic() - self._started
        loss_sum, tokens = sum_over_processes([self._loss_sum, self._tokens], self.group, self.device)
        self._loss_sum, self._tokens = 0.0, 0
        state.tokens_seen += int(tokens)
        state.history.append(self._record(scores, loss_sum / tokens if tokens else None, epoch_end))
        label = f"epoch {state.epoch}" if epoch_end else "eval"
        self.log(f"{label:>10} | step {state.step:>6} | valid {self.task.summary(scores)}")
        if epoch_end:
            self._maybe_start_averaging()
        if self.save is not None:
            self.save(run)
        return scores

    def _record(self, scores: Scores, train_loss: float | None, epoch_end: bool) -> dict[str, Any]:
        """One line of the metrics log: where the run is, the training loss and the held-out scores."""
        state = self.run.state
        done, total = self.task.progress(state.position)
        epochs = state.epoch + done / total
        lr = learning_rate(self.config, max(0, state.step - 1), self.schedule_steps, math.ceil(epochs) - 1)
        return {
            "step": state.step,
            "epoch": round(epochs, 4),
            "epoch_end": epoch_end,
            "tokens_seen": state.tokens_seen,
            "seconds": round(state.seconds, 3),
            "lr": lr,
            "train_loss": train_loss,
            **{f"valid_{name}": value for name, value in scores.items()},
            "averaging": state.averaging_since is not None,
        }

    def _maybe_start_averaging(self) -> None:
        """Checked at each epoch end: start averaging after ``config.average_from`` epochs (tail averaging),
        or, for NT-ASGD, once validation stalls."""
        state, config, selection = self.run.state, self.config, self.task.selection
        if state.averaging_since is not None:
            return
        if config.average_from is not None and state.epoch >= config.average_from:
            state.averaging_since = state.step
            self.log(f"{'':>10} | step {state.step:>6} | {state.epoch} epochs done: averaging the weights from here on")
            return
        if config.optimizer != "nt-asgd":
            return
        if selection.stopped_improving(state.epoch_end_scores(selection), config.nonmono):
            state.averaging_since = state.step
            self.log(f"{'':>10} | step {state.step:>6} | validation stalled: averaging the weights from here on "
                     "(NT-ASGD)")  # fmt: skip
