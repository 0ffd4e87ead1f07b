"""The training loop: plain functions that know a model only by how it is called.

A model is called as ``model(inputs, state, targets) -> (logits, state, loss)``: ``state``
is whatever the model carries from one window to the next (None at the start of a stream,
a tensor or a tuple of tensors after), and ``loss`` is a scalar to minimise.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from seqlab.data.batching import get_window, num_windows
from seqlab.training.config import TrainConfig
from seqlab.training.evaluate import Evaluation, evaluate
from seqlab.training.optim import clip_gradients, learning_rate, set_learning_rate
from seqlab.training.progress import EpochProgress
from seqlab.training.state import TrainingState

SaveFunction = Callable[[TrainingState, Any], None]


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
    """One optimiser step on one window.

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
        ``(loss, state)``: the window's loss (detached) and the detached final state.
    """
    _, state, loss = model(inputs, state, targets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip > 0:
        clip_gradients(model.parameters(), grad_clip)
    optimizer.step()
    return loss.detach(), detach_state(state)


def stop_reason(config: TrainConfig, state: TrainingState, deadline: float | None) -> str | None:
    """Why the run must stop now, or None to go on.

    Args:
        deadline: a :func:`time.monotonic` time, or None for no time limit.
    """
    if state.epoch >= config.epochs:
        return f"finished {config.epochs} epoch(s)"
    if config.max_steps is not None and state.step >= config.max_steps:
        return f"reached max_steps={config.max_steps}"
    if deadline is not None and time.monotonic() >= deadline:
        return f"reached the {config.max_minutes:g}-minute limit"
    return None


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_streams: torch.Tensor,
    valid_streams: torch.Tensor,
    config: TrainConfig,
    state: TrainingState,
    *,
    carry: Any = None,
    save: SaveFunction | None = None,
    log: Callable[[str], None] = tqdm.write,
    progress: bool = True,
) -> TrainResult:
    """Train until ``config.epochs``, ``config.max_steps`` or ``config.max_minutes``.

    Windows are taken in order and the model's state is carried from one to the next
    (detached), then reset at each epoch. The model is evaluated on ``valid_streams``
    every ``config.eval_every`` steps, at each epoch's end and when the run stops; each
    evaluation is logged and followed by ``save(state, carry)``, so a checkpoint holds
    everything needed to continue exactly where the run stopped.

    Args:
        model: called as ``model(inputs, state, targets) -> (logits, state, loss)``.
        optimizer: steps the model's parameters; its learning rate is set every step.
        train_streams: training token ids from :func:`~seqlab.data.batchify`.
        valid_streams: held-out token ids, batched the same way.
        config: the optimisation settings and limits.
        state: the counters, updated in place; a fresh :class:`TrainingState` starts a run,
            one restored from a checkpoint resumes it.
        carry: the model's state at ``state.window`` when resuming mid-epoch.
        save: called after each evaluation, to write a checkpoint.
        log: receives one line per evaluation.
        progress: show a progress bar (tokens/s, running loss).

    Shape:
        - train_streams: ``(T, B)``, on the model's device
        - valid_streams: ``(T', B')``, on the model's device

    Returns:
        The last evaluation and why the run stopped.
    """
    windows = num_windows(train_streams, config.bptt)
    # The schedule spans the epochs, never the step or time limits: a run stopped early and
    # resumed then follows the same learning rates as one that was never stopped.
    schedule_steps = config.epochs * windows
    deadline = None if config.max_minutes is None else time.monotonic() + 60 * config.max_minutes

    def evaluate_and_save(label: str) -> Evaluation:
        evaluation = evaluate(model, valid_streams, config.bptt)
        log(f"{label:>10} | step {state.step:>6} | valid {evaluation.summary()}")
        if save is not None:
            save(state, carry)
        return evaluation

    model.train()
    evaluation = None
    while (reason := stop_reason(config, state, deadline)) is None:
        streams, batch = train_streams.size(0), train_streams.size(1)
        with EpochProgress(
            state.epoch + 1,
            (streams - 1) * batch,
            state.window * config.bptt * batch,
            enabled=progress,
        ) as bar:
            while reason is None:
                inputs, targets = get_window(train_streams, state.window, config.bptt)
                set_learning_rate(optimizer, learning_rate(config, state.step, schedule_steps))
                loss, carry = train_step(model, optimizer, inputs, targets, carry, grad_clip=config.grad_clip)
                state.step, state.window = state.step + 1, state.window + 1
                state.tokens_seen += inputs.numel()
                bar.update(inputs.numel(), loss.item())
                epoch_done = state.window == windows
                if epoch_done:
                    state.epoch, state.window, carry = state.epoch + 1, 0, None
                reason = stop_reason(config, state, deadline)
                if epoch_done or reason is not None or state.step % config.eval_every == 0:
                    evaluation = evaluate_and_save(f"epoch {state.epoch}" if epoch_done else "eval")
                if epoch_done:
                    break
    if evaluation is None:
        evaluation = evaluate_and_save("eval")
    return TrainResult(evaluation=evaluation, stop_reason=reason)
