"""The optimiser, its learning-rate schedule, and gradient clipping."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from seqlab.nn import clip_grad_norm_
from seqlab.training.config import TrainConfig

# Cosine decay ends at this fraction of the peak learning rate rather than at zero, so the
# last steps of a run still learn something.
MIN_LR_FRACTION = 0.1


def make_optimizer(parameters: Iterable[torch.nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW or SGD at ``config.lr``; the averaged variants step with SGD (the loop averages)."""
    if config.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def learning_rate(config: TrainConfig, step: int, total_steps: int, epoch: int = 0) -> float:
    """The learning rate for optimiser step ``step`` (counting from 0) of ``total_steps``, in ``epoch``.

    A linear warm-up over ``config.warmup_steps`` steps, then by ``config.lr_schedule``:

    * ``"constant"``: ``config.lr``;
    * ``"cosine"``: a cosine decay from ``config.lr`` to ``MIN_LR_FRACTION * config.lr`` at
      ``total_steps`` (and flat after it, should a run be extended past its schedule);
    * ``"step"``: ``config.lr`` for the first ``lr_decay_start`` epochs, then multiplied by
      ``lr_decay`` at the start of every epoch (Zaremba et al. 2014).
    """
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    if config.lr_schedule == "step":
        return config.lr * config.lr_decay ** max(0, epoch + 1 - config.lr_decay_start)
    if config.lr_schedule == "constant":
        return config.lr
    progress = min(1.0, (step - config.warmup_steps) / max(1, total_steps - config.warmup_steps))
    floor = MIN_LR_FRACTION * config.lr
    return floor + (config.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Use ``lr`` for every parameter group from the next step on."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def clip_gradients(parameters: Iterable[torch.nn.Parameter], max_norm: float) -> torch.Tensor:
    """Scale all gradients together so their global L2 norm is at most ``max_norm``.

    Returns:
        The global norm before clipping, a 0-dim tensor (left on the device: reading it
        would wait for the GPU).
    """
    return clip_grad_norm_(parameters, max_norm)
