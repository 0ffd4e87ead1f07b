"""The training loop, the same for every task: steps, schedules, evaluations, averaging, limits.

The loop knows a task only through :class:`~seqlab.training.task.Task` and a model only as
something the task calls. Read top to bottom, :func:`train` is the whole life of an epoch:
take the task's next batch, set the learning rate, step, count; evaluate and checkpoint
every ``eval_every`` steps, at each epoch's end and when a limit is reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from seqlab.errors import SeqlabError
from seqlab.training.averaging import ParameterAverage
from seqlab.training.config import TrainConfig
from seqlab.training.distributed import SINGLE_PROCESS, ProcessGroup, any_process
from seqlab.training.evaluation import EvaluationRecorder
from seqlab.training.optim import learning_rate, set_learning_rate
from seqlab.training.progress import EpochProgress
from seqlab.training.state import TrainingState
from seqlab.training.step import TrainingDiverged, train_step
from seqlab.training.task import LOWEST_LOSS, Scores, Selection, Task


@dataclass
class TrainingRun:
    """Everything a checkpoint must hold for training to continue exactly."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    state: TrainingState
    averager: ParameterAverage  # running mean of the weights, active once ASGD averaging starts
    carry: Any = None  # the task's state at ``state.position``, detached; None at an epoch start

    @classmethod
    def start(cls, model: nn.Module, optimizer: torch.optim.Optimizer) -> TrainingRun:
        """A run at step 0, averaging not started."""
        return cls(model, optimizer, TrainingState(), ParameterAverage(model.parameters()))


SaveFunction = Callable[[TrainingRun], None]


@dataclass(frozen=True)
class TrainResult:
    """How a call to :func:`train` ended."""

    scores: Scores  # held-out scores after the last step
    stop_reason: str  # which limit ended the run, in words

    @property
    def finished(self) -> bool:
        """Whether every epoch was trained (not stopped by a step or time limit, or by patience)."""
        return self.stop_reason.startswith("finished")


def stop_reason(
    config: TrainConfig,
    state: TrainingState,
    deadline: float | None,
    selection: Selection = LOWEST_LOSS,
    *,
    group: ProcessGroup = SINGLE_PROCESS,
    device: torch.device | None = None,
) -> str | None:
    """Why the run must stop now, or None to go on.

    Args:
        deadline: a :func:`time.monotonic` time, or None for no time limit.
        selection: the held-out score patience watches.
        group: the processes of a distributed run, which stop together when any one of
            them reaches the deadline (every other reason is the same on all of them).
        device: where ``group`` exchanges its flags.
    """
    if state.epoch >= config.epochs:
        return f"finished {config.epochs} epoch(s)"
    if config.max_steps is not None and state.step >= config.max_steps:
        return f"reached max_steps={config.max_steps}"
    if deadline is not None and any_process(time.monotonic() >= deadline, group, device):
        return f"reached the {config.max_minutes:g}-minute limit"
    if config.patience is not None and selection.stopped_improving(state.epoch_end_scores(selection), config.patience):
        return f"validation stopped improving (patience {config.patience})"
    return None


def train(
    run: TrainingRun,
    task: Task,
    config: TrainConfig,
    *,
    save: SaveFunction | None = None,
    log: Callable[[str], None] = print,
    progress: bool = True,
    group: ProcessGroup = SINGLE_PROCESS,
    device: torch.device | None = None,
    forward_model: nn.Module | None = None,
) -> TrainResult:
    """Train until a limit of ``config`` is reached, checkpointing after every evaluation.

    Batches are taken in the task's order from ``run.state.position``; the task's carried
    state goes from one batch to the next (detached) and is reset at each epoch. The model is
    evaluated on the "valid" split every ``config.eval_every`` steps, at each epoch's end and
    when the run stops; each evaluation is logged, recorded in ``run.state.history`` and
    followed by ``save(run)``, so a checkpoint holds everything needed to continue exactly.

    With ``config.optimizer == "nt-asgd"`` weight averaging starts at the first epoch end
    whose held-out score is worse than the best before the last ``config.nonmono`` epochs
    (:meth:`~seqlab.training.task.Selection.stopped_improving`); with ``"asgd"`` it starts at
    the first step; with ``config.average_from = N`` (any other optimiser) at the end of epoch N.
    Once averaging, evaluations and checkpoints use the averaged weights.

    Args:
        run: the model, optimiser, counters and carried state, updated in place; a fresh
            :meth:`TrainingRun.start` starts a run, one restored from a checkpoint resumes it.
        task: the batches, the loss and the evaluation.
        config: the optimisation settings and limits.
        save: called after each evaluation on every process (it gathers), to write a checkpoint.
        log: receives one line per evaluation.
        progress: show progress (a bar on a terminal, periodic lines otherwise).
        group: the processes of a distributed run: the task holds this process's share.
        device: where the processes exchange numbers (the model's device).
        forward_model: what the task calls for training steps, e.g. ``run.model`` wrapped in
            ``DistributedDataParallel``; ``run.model`` when None.

    Returns:
        The last evaluation's scores and why the run stopped.

    Raises:
        TrainingDiverged: the loss became NaN or infinite; the message says where, and the
            last checkpoint written is from before it.
    """
    state = run.state
    # The schedule spans the epochs, never the step or time limits: a run stopped early and
    # resumed then follows the same learning rates as one that was never stopped.
    schedule_steps = config.epochs * task.steps_per_epoch()
    started = time.monotonic()
    deadline = None if config.max_minutes is None else started + 60 * config.max_minutes
    forward_model = forward_model if forward_model is not None else run.model
    recorder = EvaluationRecorder(run, task, config, schedule_steps, group=group, device=device, log=log, save=save,
                                  started=started)  # fmt: skip

    def stop() -> str | None:
        return stop_reason(config, state, deadline, task.selection, group=group, device=device)

    run.model.train()
    scores = None
    if config.optimizer == "asgd" and not run.averager.active:
        state.averaging_since = state.step
    while (reason := stop()) is None:
        done, total = task.progress(state.position)
        with EpochProgress(state.epoch + 1, total, done, enabled=progress, unit=task.progress_unit or task.unit,
                           loss_unit=task.unit, log=log) as bar:  # fmt: skip
            scores, reason = _epoch(run, task, config, forward_model, recorder, bar, stop, scores,
                                    schedule_steps=schedule_steps, group=group, device=device)  # fmt: skip
    if scores is None:
        scores = recorder.evaluate_and_save(epoch_end=False)
    return TrainResult(scores=scores, stop_reason=reason)


def _epoch(run, task, config, forward_model, recorder, bar, stop, scores, *, schedule_steps, group, device):
    """The rest of the current epoch, or less if a limit is reached: ``(the last scores, why it stopped or None)``.

    Evaluates (and saves) every ``config.eval_every`` steps, at the epoch's end and when a limit is reached.
    """
    state, reason, batches = run.state, None, 0
    for batch in task.train_batches(state.epoch, state.position):
        batches += 1
        step = _step(run, task, forward_model, batch, config, schedule_steps, group, device)
        state.step, state.position = state.step + 1, batch.end
        loss = step.loss.item()
        recorder.count(loss, step.tokens)
        bar.update(batch.size * group.world_size, loss)
        if batch.last:
            state.epoch, state.position, run.carry = state.epoch + 1, 0, None
        reason = stop()
        if batch.last or reason is not None or state.step % config.eval_every == 0:
            scores = recorder.evaluate_and_save(epoch_end=batch.last)
            reason = stop()
        if batch.last or reason is not None:
            break
    if not batches:
        raise SeqlabError(f"{type(task).__name__} gave no training batches for epoch {state.epoch + 1}")
    return scores, reason


def _step(run, task, forward_model, batch, config, schedule_steps, group, device):
    """One optimiser step on ``batch`` at the learning rate of ``run.state.step``; averages after it."""
    state = run.state
    lr = learning_rate(config, state.step, schedule_steps, state.epoch) * batch.lr_scale
    set_learning_rate(run.optimizer, lr)
    try:
        step = train_step(task, forward_model, run.optimizer, batch.data, run.carry, grad_clip=config.grad_clip,
                          group=group, device=device)  # fmt: skip
    except TrainingDiverged as error:
        raise TrainingDiverged(
            f"{error} at step {state.step + 1} (epoch {state.epoch + 1}, {task.describe_position(state.position)}, "
            f"lr {lr:.4g}); the step was not taken"
        ) from None
    run.carry = step.carry
    if state.averaging_since is not None:
        run.averager.update()
    return step
