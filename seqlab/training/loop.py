"""The training loop: plain functions that know a model only by how it is called.

A model is called as ``model(inputs, state, targets)`` and returns a
:class:`~seqlab.models.output.LanguageModelOutput`: ``state`` is whatever the model carries
from one window to the next (None at the start of a stream), ``loss`` the objective to
minimise and ``cross_entropy`` what is reported.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from seqlab.data.batching import window_at
from seqlab.errors import SeqlabError
from seqlab.training.averaging import ParameterAverage
from seqlab.training.config import TrainConfig
from seqlab.training.distributed import SINGLE_PROCESS, ProcessGroup, any_process, sum_over_processes
from seqlab.training.evaluate import Evaluation, evaluate
from seqlab.training.optim import clip_gradients, learning_rate, set_learning_rate
from seqlab.training.progress import EpochProgress
from seqlab.training.state import TrainingState

# AWD-LSTM's variable BPTT: a window is bptt long on average, half of it 5% of the time,
# with a normal spread of this many tokens, and never shorter than the minimum.
VARIABLE_BPTT_HALF_PROBABILITY = 0.05
VARIABLE_BPTT_SPREAD = 5.0
VARIABLE_BPTT_MIN = 5


class TrainingDiverged(SeqlabError):
    """The loss or the gradient became NaN or infinite; the step was not taken."""


@dataclass
class TrainingRun:
    """Everything a checkpoint must hold for training to continue exactly."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    state: TrainingState
    averager: ParameterAverage  # running mean of the weights, active once ASGD averaging starts
    carry: Any = None  # the model state at ``state.position``, detached; None at an epoch start

    @classmethod
    def start(cls, model: nn.Module, optimizer: torch.optim.Optimizer) -> TrainingRun:
        """A run at step 0, averaging not started."""
        return cls(model, optimizer, TrainingState(), ParameterAverage(model.parameters()))


SaveFunction = Callable[[TrainingRun], None]


@dataclass(frozen=True)
class TrainResult:
    """How a call to :func:`train` ended."""

    evaluation: Evaluation  # held-out scores after the last step
    stop_reason: str  # which limit ended the run, in words


def detach_state(state: Any) -> Any:
    """``state`` cut from the graph of the window that produced it.

    The next window then starts from the same values but back-propagates no further:
    this is what makes back-propagation through time truncated.
    """
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(part) for part in state)
    return state


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    state: Any,
    *,
    grad_clip: float,
) -> tuple[torch.Tensor, Any]:
    """One optimiser step on one window, unless the loss or gradient is not finite.

    Args:
        model: called as ``model(inputs, state, targets)``.
        optimizer: steps the model's parameters.
        inputs: token ids of the window.
        targets: the token that follows each input.
        state: the detached state from the previous window, or None.
        grad_clip: largest global gradient norm; 0 for no clipping.

    Shape:
        - inputs, targets: ``(L, B)``

    Returns:
        ``(cross_entropy, state)``: the window's cross-entropy (detached) and the detached
        final state.

    Raises:
        TrainingDiverged: the loss or the gradient norm is NaN or infinite; the
            parameters are left as they were.
    """
    output = model(inputs, state, targets)
    optimizer.zero_grad(set_to_none=True)
    output.loss.backward()
    finite = torch.isfinite(output.loss)
    if grad_clip > 0:
        finite &= torch.isfinite(clip_gradients(model.parameters(), grad_clip))
    if not finite.item():
        what = "loss" if not torch.isfinite(output.loss) else "gradient norm"
        raise TrainingDiverged(f"the {what} is {output.loss.item() if what == 'loss' else 'not finite'}")
    optimizer.step()
    return output.cross_entropy.detach(), detach_state(output.state)


def window_length(config: TrainConfig) -> int:
    """The length of the next training window: ``bptt``, or AWD-LSTM's random length.

    With ``variable_bptt`` the length is drawn from Python's ``random`` (saved in
    checkpoints, so a resumed run draws the same lengths).
    """
    if not config.variable_bptt:
        return config.bptt
    base = config.bptt / 2 if random.random() < VARIABLE_BPTT_HALF_PROBABILITY else config.bptt
    return max(VARIABLE_BPTT_MIN, int(random.gauss(base, VARIABLE_BPTT_SPREAD)))


def stop_reason(
    config: TrainConfig,
    state: TrainingState,
    deadline: float | None,
    *,
    group: ProcessGroup = SINGLE_PROCESS,
    device: torch.device | None = None,
) -> str | None:
    """Why the run must stop now, or None to go on.

    Args:
        deadline: a :func:`time.monotonic` time, or None for no time limit.
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
    if config.patience is not None and _stopped_improving(state.epoch_end_losses(), config.patience):
        return f"validation stopped improving (patience {config.patience})"
    return None


def _stopped_improving(losses: list[float], window: int) -> bool:
    """AWD-LSTM's non-monotone test: the last loss is worse than the best before the last ``window``."""
    return len(losses) > window and losses[-1] > min(losses[:-window])


def train(
    run: TrainingRun,
    train_streams: torch.Tensor,
    valid_streams: torch.Tensor,
    config: TrainConfig,
    *,
    save: SaveFunction | None = None,
    log: Callable[[str], None] = tqdm.write,
    progress: bool = True,
    unit: str = "token",
    group: ProcessGroup = SINGLE_PROCESS,
    forward_model: nn.Module | None = None,
) -> TrainResult:
    """Train until a limit of ``config`` is reached, checkpointing after every evaluation.

    Windows are taken in order and the model's state is carried from one to the next
    (detached), then reset at each epoch. The model is evaluated on ``valid_streams``
    every ``config.eval_every`` steps, at each epoch's end and when the run stops; each
    evaluation is logged, recorded in ``run.state.history`` and followed by ``save(run)``,
    so a checkpoint holds everything needed to continue exactly where the run stopped.

    With ``config.optimizer == "nt-asgd"`` weight averaging starts at the first epoch end
    whose held-out loss is worse than the best before the last ``config.nonmono`` epochs
    (Merity et al. 2017); with ``"asgd"`` it starts at the first step. Once averaging,
    evaluations and checkpoints use the averaged weights.

    Args:
        run: the model, optimiser, counters and carried state, updated in place; a fresh
            :meth:`TrainingRun.start` starts a run, one restored from a checkpoint resumes it.
        train_streams: training token ids from :func:`~seqlab.data.batchify`.
        valid_streams: held-out token ids, batched the same way.
        config: the optimisation settings and limits.
        save: called after each evaluation, to write a checkpoint.
        log: receives one line per evaluation.
        progress: show a progress bar (tokens/s, running loss).
        unit: what a token is ("char", "word"), for the log lines.
        group: the processes of a distributed run. Each trains on its own block of streams
            (``train_streams`` and ``valid_streams`` are its blocks); the held-out losses are
            summed over processes, and ``save`` is called on every process (it gathers).
        forward_model: what to call for training steps, e.g. ``run.model`` wrapped in
            ``DistributedDataParallel``; ``run.model`` when None.

    Shape:
        - train_streams: ``(T, B)``, on the model's device
        - valid_streams: ``(T', B')``, on the model's device

    Returns:
        The last evaluation and why the run stopped.

    Raises:
        TrainingDiverged: the loss became NaN or infinite; the message says where, and the
            last checkpoint written is from before it.
    """
    state, rows = run.state, train_streams.size(0) - 1  # the last row is a target only
    # The schedule spans the epochs, never the step or time limits: a run stopped early and
    # resumed then follows the same learning rates as one that was never stopped.
    schedule_steps = config.epochs * math.ceil(rows / config.bptt)
    started = time.monotonic()
    deadline = None if config.max_minutes is None else started + 60 * config.max_minutes
    seconds_before = state.seconds
    interval_losses: list[float] = []  # floats: keeping the loss tensors kept ~16 MB each alive

    forward_model = forward_model if forward_model is not None else run.model
    device = train_streams.device

    def stop() -> str | None:
        return stop_reason(config, state, deadline, group=group, device=device)

    def evaluate_and_save(epoch_end: bool) -> Evaluation:
        with run.averager.applied():
            evaluation = evaluate(run.model, valid_streams, config.bptt, unit=unit)
        if group.distributed:
            total, tokens = sum_over_processes([evaluation.loss * evaluation.tokens, evaluation.tokens], group, device)
            evaluation = Evaluation(loss=total / tokens, tokens=int(tokens), unit=unit)
        if not math.isfinite(evaluation.loss):
            raise TrainingDiverged(f"the held-out loss is {evaluation.loss} at step {state.step}")
        state.seconds = seconds_before + time.monotonic() - started
        loss_sum, steps = sum_over_processes([sum(interval_losses), len(interval_losses)], group, device)
        train_loss = loss_sum / steps if steps else None
        interval_losses.clear()
        epochs = state.epoch + state.position / rows
        base_lr = learning_rate(config, max(0, state.step - 1), schedule_steps, math.ceil(epochs) - 1)
        state.history.append(_record(state, evaluation, train_loss, base_lr, epochs, epoch_end))
        label = f"epoch {state.epoch}" if epoch_end else "eval"
        log(f"{label:>10} | step {state.step:>6} | valid {evaluation.summary()}")
        if epoch_end:
            _maybe_start_averaging(run, config, log)
        if save is not None:
            save(run)
        return evaluation

    run.model.train()
    evaluation = None
    if config.optimizer == "asgd" and not run.averager.active:
        state.averaging_since = state.step
    while (reason := stop()) is None:
        batch = train_streams.size(1)
        with EpochProgress(state.epoch + 1, rows * batch, state.position * batch, enabled=progress, unit=unit) as bar:
            while reason is None:
                loss, rows_done = _train_window(run, forward_model, train_streams, config, schedule_steps)
                interval_losses.append(loss)
                state.step, state.position = state.step + 1, state.position + rows_done
                state.tokens_seen += rows_done * batch * group.world_size  # every process trains as many
                bar.update(rows_done * batch, loss)
                epoch_done = state.position == rows
                if epoch_done:
                    state.epoch, state.position, run.carry = state.epoch + 1, 0, None
                reason = stop()
                if epoch_done or reason is not None or state.step % config.eval_every == 0:
                    evaluation = evaluate_and_save(epoch_done)
                    reason = stop()
                if epoch_done:
                    break
    if evaluation is None:
        evaluation = evaluate_and_save(False)
    return TrainResult(evaluation=evaluation, stop_reason=reason)


def _train_window(
    run: TrainingRun, forward_model: nn.Module, streams: torch.Tensor, config: TrainConfig, schedule_steps: int
) -> tuple[float, int]:
    """One optimiser step on the window at ``run.state.position``; returns its loss and length in rows."""
    state = run.state
    length = window_length(config)
    inputs, targets = window_at(streams, state.position, length)  # (L, B)
    lr = learning_rate(config, state.step, schedule_steps, state.epoch) * length / config.bptt
    set_learning_rate(run.optimizer, lr)
    try:
        loss, run.carry = train_step(forward_model, run.optimizer, inputs, targets, run.carry,
                                     grad_clip=config.grad_clip)  # fmt: skip
    except TrainingDiverged as error:
        raise TrainingDiverged(
            f"{error} at step {state.step + 1} (epoch {state.epoch + 1}, training row {state.position}, "
            f"lr {lr:.4g}); the step was not taken"
        ) from None
    if state.averaging_since is not None:
        run.averager.update()
    return loss.item(), inputs.size(0)


def _maybe_start_averaging(run: TrainingRun, config: TrainConfig, log: Callable[[str], None]) -> None:
    """NT-ASGD's trigger, checked at each epoch end: start averaging once validation stalls."""
    state = run.state
    if config.optimizer != "nt-asgd" or state.averaging_since is not None:
        return
    if _stopped_improving(state.epoch_end_losses(), config.nonmono):
        state.averaging_since = state.step
        log(f"{'':>10} | step {state.step:>6} | validation stalled: averaging the weights from here on (NT-ASGD)")


def _record(
    state: TrainingState,
    evaluation: Evaluation,
    train_loss: float | None,
    lr: float,
    epochs: float,
    epoch_end: bool,
) -> dict[str, Any]:
    """One line of the metrics log: where the run is, and the losses in nats per token."""
    return {
        "step": state.step,
        "epoch": round(epochs, 4),
        "epoch_end": epoch_end,
        "tokens_seen": state.tokens_seen,
        "seconds": round(state.seconds, 3),
        "lr": lr,
        "train_loss": train_loss,
        "valid_loss": evaluation.loss,
        "valid_perplexity": evaluation.perplexity,
        "averaging": state.averaging_since is not None,
    }
