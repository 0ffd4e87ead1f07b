"""A tiny spoken-digit folder (tones, :mod:`tests.speech.conftest`) and the settings of tiny trigger runs on it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from seqlab.models.trigger_configs import TriggerConfig
from seqlab.models.trigger_detector import TriggerDetector
from seqlab.tasks.trigger.config import DataConfig
from tests.speech.conftest import write_digit_folder

TRIGGER = 3
MODEL = {"conv_channels": 16, "hidden_size": 16, "num_layers": 2, "dropout": 0.0}
DATA = {"left_out_speaker": "bob", "trigger": TRIGGER, "clip_seconds": 2.0, "train_clips": 48, "valid_clips": 8,
        "max_triggers": 2, "max_distractors": 2, "min_gap": 0.2, "batch_size": 8,
        "normalisation_clips": 16}  # fmt: skip
TRAINING = {"epochs": 2, "lr": 0.01, "warmup_steps": 0, "device": "cpu", "max_minutes": None}
TINY = {"model": MODEL, "data": DATA, "training": TRAINING}


def tiny_data_config(folder: Path, **changes) -> DataConfig:
    return DataConfig(**{**DATA, "corpus": str(folder), **changes})


def a_detector(dtype: torch.dtype = torch.float32, seed: int = 0) -> TriggerDetector:
    """An untrained detector whose batch norms hold statistics other than the identity, in eval mode."""
    torch.manual_seed(seed)
    model = TriggerDetector(TriggerConfig(conv_channels=24, hidden_size=20, num_layers=2, dropout=0.3))
    model.set_normalisation(torch.full((40,), -40.0), torch.full((40,), 15.0))
    for norm in [model.convolution_norm, *model.rnn_norms]:
        norm.running_mean.uniform_(-0.5, 0.5)
        norm.running_var.uniform_(0.5, 2.0)
    return model.to(dtype).eval()


def quiet(line: str) -> None:
    """Where the runs' logs go."""


@pytest.fixture(scope="session")
def digit_folder(tmp_path_factory) -> Path:
    return write_digit_folder(tmp_path_factory.mktemp("fsdd") / "recordings")
