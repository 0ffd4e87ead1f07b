"""One optimiser step: the task's loss, backward, clipping, and a divergence guard decided by all processes."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from seqlab.errors import TrainingDiverged
from seqlab.training.distributed import SINGLE_PROCESS, ProcessGroup, sum_over_processes
from seqlab.training.optim import clip_gradients
from seqlab.training.task import StepLoss, Task

__all__ = ["TrainingDiverged", "detach_state", "train_step"]


def detach_state(state: Any) -> Any:
    """``state`` cut from the graph of the batch that produced it.

    The next batch then starts from the same values but back-propagates no further: this is
    what makes back-propagation through time truncated.
    """
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(part) for part in state)
    return state


def train_step(
    task: Task,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: Any,
    carry: Any,
    *,
    grad_clip: float,
    group: ProcessGroup = SINGLE_PROCESS,
    device: torch.device | None = None,
) -> StepLoss:
    """One optimiser step on one batch, unless the loss or gradient is not finite on any process.

    With several processes and a task whose processes hold unequal numbers of real tokens,
    the objective (a mean over this process's tokens) is rescaled by ``n_r * R / N`` before
    the backward pass (``n_r`` this process's tokens, ``N`` all processes', ``R`` processes):
    ``DistributedDataParallel`` averages the gradients over processes, which then gives the
    gradient of the mean over all ``N`` tokens, as one process holding every batch would.

    The finiteness test covers the objective and, when clipping, the global gradient norm;
    its verdict is summed over processes, so that all of them stop at the same step (one
    process raising while the others wait in their next collective would hang the run).

    Args:
        task: computes the loss of ``data``.
        model: what the task calls: the model, or the model wrapped in DistributedDataParallel.
        optimizer: steps the model's parameters.
        data: the batch.
        carry: the detached state from the previous batch, or None.
        grad_clip: largest global gradient norm; 0 for no clipping.
        group: the processes of the run; ``device`` is where they exchange numbers.

    Returns:
        The task's :class:`StepLoss`, with ``loss`` and ``carry`` detached.

    Raises:
        TrainingDiverged: on every process alike; the parameters are left as they were.
    """
    step = task.loss(model, data, carry)
    objective = step.objective
    if group.distributed and not task.equal_shares:
        (all_tokens,) = sum_over_processes([step.tokens], group, device)
        objective = objective * (step.tokens * group.world_size / all_tokens)
    optimizer.zero_grad(set_to_none=True)
    objective.backward()
    finite = torch.isfinite(step.objective)
    if grad_clip > 0:
        norm_finite = torch.isfinite(clip_gradients(model.parameters(), grad_clip))
        finite = finite & norm_finite
    failures = float(not finite.item())
    if group.distributed:
        (failures,) = sum_over_processes([failures], group, device)
    if failures:
        raise TrainingDiverged(_what_diverged(step.objective, finite, group))
    optimizer.step()
    return StepLoss(step.objective.detach(), step.loss.detach(), step.tokens, detach_state(step.carry))


def _what_diverged(objective: torch.Tensor, finite: torch.Tensor, group: ProcessGroup) -> str:
    if bool(finite):
        return f"the loss or gradient is not finite on another of the {group.world_size} processes"
    if not torch.isfinite(objective):
        return f"the loss is {objective.item()}"
    return "the gradient norm is not finite"
