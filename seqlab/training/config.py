"""The settings of a training run: which text, how to optimise, and when to stop."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from seqlab.errors import SeqlabError

OPTIMIZERS = ("adamw", "sgd", "nt-asgd", "asgd")
LR_SCHEDULES = ("constant", "cosine", "step")
LEVELS = ("char", "word")


@dataclass
class DataConfig:
    """Where the text comes from, how it becomes tokens, and how much is held out."""

    corpus: str | None = None  # a text file or corpus directory; None: the Python standard library's source
    level: str = "char"  # "char" or "word": what a token is
    min_count: int = 1  # tokens seen fewer times in the training text become <unk>
    max_vocab: int | None = None  # keep at most this many tokens (the most frequent), specials included
    stdlib_max_chars: int = 6_000_000  # about what 3 minutes on 2 CPU cores get through
    valid_fraction: float = 0.05  # without a validation file, the last 5% of the text is held out

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise SeqlabError(f"level must be one of {LEVELS}, got {self.level!r}")
        if not 0.0 < self.valid_fraction < 1.0:
            raise SeqlabError(f"valid_fraction must be between 0 and 1, got {self.valid_fraction}")
        if self.stdlib_max_chars < 1:
            raise SeqlabError(f"stdlib_max_chars must be positive, got {self.stdlib_max_chars}")
        if self.min_count < 1:
            raise SeqlabError(f"min_count must be at least 1, got {self.min_count}")
        if self.max_vocab is not None and self.max_vocab < 3:
            raise SeqlabError(f"max_vocab must be at least 3 (the special tokens and a word), got {self.max_vocab}")


@dataclass
class TrainConfig:
    """How to optimise and when to stop; the first limit reached ends the run.

    The defaults are tuned for a three-minute run of the default model on two CPU cores.
    """

    batch_size: int = 32  # parallel streams B; on 2 CPU cores 32 and 64 give equal tokens/s
    bptt: int = 128  # window length T of truncated back-propagation through time
    variable_bptt: bool = False  # AWD-LSTM: windows of random length around bptt, lr scaled to match
    eval_batch_size: int | None = None  # parallel streams of the held-out text; None: batch_size
    optimizer: str = "adamw"  # "adamw", "sgd", "nt-asgd" (SGD, then averaged), "asgd" (averaged from the start)
    lr: float = 2e-3  # peak learning rate; Adam's usual 1e-3 is slow for a 3-minute run
    momentum: float = 0.0  # SGD momentum (unused by AdamW)
    weight_decay: float = 0.0  # decoupled for AdamW; little to regularise in under an epoch
    grad_clip: float = 1.0  # largest global gradient norm; 0 turns clipping off
    warmup_steps: int = 20  # linear learning-rate warm-up from lr / warmup_steps
    lr_schedule: str = "constant"  # beat "cosine" (to 10% of lr over the epochs) in 3-min runs
    lr_decay: float = 0.5  # "step" schedule: the lr is multiplied by this every epoch ...
    lr_decay_start: int = 4  # ... after this many epochs at the full lr
    nonmono: int = 5  # nt-asgd: average once an epoch is worse than the best of all but the last nonmono
    patience: int | None = None  # stop once an epoch is worse than the best of all but the last `patience`
    epochs: int = 10  # passes over the training text; also the cosine schedule's length
    max_steps: int | None = None  # stop after this many optimiser steps in all
    max_minutes: float | None = 3.0  # stop after this long (this invocation), checked each step
    eval_every: int = 500  # steps between evaluations; also at each epoch end and at the end
    seed: int = 1337  # seeds torch and Python's random module
    device: str = "auto"  # "auto" picks CUDA when available, else CPU

    @property
    def held_out_batch_size(self) -> int:
        """The streams the held-out text is cut into: ``eval_batch_size``, or ``batch_size``."""
        return self.eval_batch_size or self.batch_size

    def __post_init__(self) -> None:
        for name in ("batch_size", "bptt", "epochs", "eval_every", "nonmono"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.eval_batch_size is not None and self.eval_batch_size < 1:
            raise SeqlabError(f"eval_batch_size must be at least 1, got {self.eval_batch_size}")
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


def replace_fields(config: Any, overrides: dict[str, Any], *, what: str) -> Any:
    """A copy of the dataclass ``config`` with ``overrides`` applied.

    Args:
        config: a dataclass instance.
        overrides: field names and new values.
        what: how to name the config in the error message, e.g. ``"model config"``.

    Raises:
        SeqlabError: a key of ``overrides`` is not a field of ``config``.
    """
    fields = {field.name for field in dataclasses.fields(config)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise SeqlabError(f"unknown {what} keys {unknown}; known keys are {sorted(fields)}")
    return dataclasses.replace(config, **overrides)


def from_dict(config_class: type, data: dict[str, Any], *, source: str) -> Any:
    """The dataclass ``config_class`` built from ``data``, as read from ``source``.

    Raises:
        SeqlabError: ``data`` has unknown keys, lacks required ones, or holds bad values.
    """
    if not isinstance(data, dict):
        raise SeqlabError(f"{source}: expected a JSON object for {config_class.__name__}")
    fields = {field.name for field in dataclasses.fields(config_class)}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise SeqlabError(f"{source}: unknown {config_class.__name__} keys {unknown}")
    try:
        return config_class(**data)
    except (TypeError, SeqlabError) as error:
        raise SeqlabError(f"{source}: {config_class.__name__}: {error}") from None
