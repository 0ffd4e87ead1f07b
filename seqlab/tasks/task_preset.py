"""A named configuration of a sentence task (classification, tagging): torch-free, for the command line's flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seqlab.training.config import TrainConfig


@dataclass(frozen=True)
class TaskPreset:
    """A named configuration that reproduces a published model; the sizes the data decides come later."""

    description: str
    reference: str  # the paper or result it stands for
    model: dict[str, Any] = field(default_factory=dict)  # model config fields
    training: TrainConfig = field(default_factory=TrainConfig)
    data: Any = None  # the task's data config
