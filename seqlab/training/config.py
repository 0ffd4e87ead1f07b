"""The engine's settings for a run: how to optimise, when to evaluate, and when to stop.

How batches are made (batch size, window length, token budget) is the task's business and
lives in the task's own data config.
"""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.errors import SeqlabError

OPTIMIZERS = ("adamw", "sgd", "nt-asgd", "asgd")
LR_SCHEDULES = ("constant", "cosine", "step")


@dataclass
class TrainConfig:
    """How to optimise and when to stop; the first limit reached ends the run.

    The defaults suit a short AdamW run; the presets of each task set the papers' values.
    """

    optimizer: str = "adamw"  # "adamw", "sgd", "nt-asgd" (SGD, then averaged), "asgd" (averaged from the start)
    lr: float = 2e-3  # peak learning rate; Adam's usual 1e-3 is slow for a 3-minute run
    momentum: float = 0.0  # SGD momentum (unused by AdamW)
    weight_decay: float = 0.0  # decoupled for AdamW; little to regularise in under an epoch
    grad_clip: float = 1.0  # largest global gradient norm; 0 turns clipping off
    warmup_steps: int = 20  # linear learning-rate warm-up from lr / warmup_steps
    lr_schedule: str = "constant"  # "constant", "cosine" (to 10% of lr over all epochs' steps) or "step"
    lr_decay: float = 0.5  # "step" schedule: the lr is multiplied by this every epoch ...
    lr_decay_start: int = 4  # ... after this many epochs at the full lr
    nonmono: int = 5  # nt-asgd: average once an epoch is worse than the best of all but the last nonmono
    average_from: int | None = None  # adamw/sgd: average the weights of every step after this many epochs
    patience: int | None = None  # stop once an epoch is worse than the best of all but the last `patience`
    epochs: int = 10  # passes over the training data; also the cosine schedule's length
    max_steps: int | None = None  # stop after this many optimiser steps in all
    max_minutes: float | None = None  # stop after this long (this invocation), checked each step
    eval_every: int = 500  # steps between evaluations; also at each epoch end and at the end
    seed: int = 1337  # seeds torch and Python's random module
    device: str = "auto"  # "auto" picks CUDA when available, else CPU

    def __post_init__(self) -> None:
        for name in ("epochs", "eval_every", "nonmono"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.optimizer not in OPTIMIZERS:
            raise SeqlabError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise SeqlabError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if self.lr <= 0:
            raise SeqlabError(f"lr must be positive, got {self.lr}")
        if self.grad_clip < 0 or self.warmup_steps < 0 or self.weight_decay < 0 or self.lr_decay_start < 0:
            raise SeqlabError("grad_clip, warmup_steps, weight_decay and lr_decay_start must not be negative")
        if not 0.0 < self.lr_decay <= 1.0:
            raise SeqlabError(f"lr_decay must be in (0, 1], got {self.lr_decay}")
        if self.patience is not None and self.patience < 1:
            raise SeqlabError(f"patience must be at least 1, got {self.patience}")
        if self.max_steps is not None and self.max_steps < 1:
            raise SeqlabError(f"max_steps must be at least 1, got {self.max_steps}")
        if self.max_minutes is not None and self.max_minutes <= 0:
            raise SeqlabError(f"max_minutes must be positive, got {self.max_minutes}")
        if self.average_from is not None and self.average_from < 1:
            raise SeqlabError(f"average_from must be at least 1 epoch, got {self.average_from}")
        if self.average_from is not None and self.optimizer in ("nt-asgd", "asgd"):
            raise SeqlabError(f"average_from is for adamw and sgd; {self.optimizer} decides when to average itself")
