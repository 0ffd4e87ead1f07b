"""The counters of a training run, saved in checkpoints so ``--resume`` continues the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seqlab.training.task import Selection


@dataclass
class TrainingState:
    """Where a run is: how far it has gone, where the next step starts, and what it measured."""

    step: int = 0  # optimiser steps taken in all
    epoch: int = 0  # complete passes over the training text
    position: int = 0  # where the next batch starts within the epoch, in the task's terms (a row, a batch number)
    tokens_seen: int = 0  # real training tokens of all processes, in all
    seconds: float = 0.0  # time spent training and evaluating, over every invocation
    averaging_since: int | None = None  # the step weight averaging (ASGD) started at, if it has
    history: list[dict[str, Any]] = field(default_factory=list)  # one record per evaluation

    def epoch_end_scores(self, selection: Selection) -> list[float]:
        """The held-out score ``selection`` watches at the end of each epoch so far, in order."""
        return [record[f"valid_{selection.score}"] for record in self.history if record["epoch_end"]]
