"""The counters of a training run, saved in checkpoints so ``--resume`` continues the run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrainingState:
    """Where a run is: how far it has gone, and where in the text the next step starts."""

    step: int = 0  # optimiser steps taken in all
    epoch: int = 0  # complete passes over the training text
    window: int = 0  # the BPTT window the next step trains on, within the current epoch
    tokens_seen: int = 0  # training tokens processed in all
