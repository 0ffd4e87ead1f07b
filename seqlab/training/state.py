"""The counters of a training run, saved in checkpoints so ``--resume`` continues the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainingState:
    """Where a run is: how far it has gone, where the next step starts, and what it measured."""

    step: int = 0  # optimiser steps taken in all
    epoch: int = 0  # complete passes over the training text
    position: int = 0  # the row of the training streams the next window starts at, within the epoch
    tokens_seen: int = 0  # training tokens processed in all
    seconds: float = 0.0  # time spent training and evaluating, over every invocation
    averaging_since: int | None = None  # the step weight averaging (ASGD) started at, if it has
    history: list[dict[str, Any]] = field(default_factory=list)  # one record per evaluation

    def epoch_end_losses(self) -> list[float]:
        """The held-out loss at the end of each epoch so far, in order."""
        return [record["valid_loss"] for record in self.history if record["epoch_end"]]
