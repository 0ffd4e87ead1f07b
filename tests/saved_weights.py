"""The weights a run saved, read back for comparing runs, and the weights of each step of a run."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file


def weights(directory: Path) -> dict[str, torch.Tensor]:
    """The tensors of ``directory/model.safetensors``, by name."""
    return load_file(str(directory / "model.safetensors"))


def assert_same_weights(first: Path, second: Path) -> None:
    """The two runs saved the same tensors, bit for bit."""
    expected, actual = weights(first), weights(second)
    assert expected.keys() == actual.keys()
    for name in expected:
        assert torch.equal(expected[name], actual[name]), name


def record_weights_after_each_step(run) -> list[list[torch.Tensor]]:
    """A list that gets a copy of ``run.model``'s parameters after every ``run.optimizer.step``."""
    snapshots, step = [], run.optimizer.step

    def recording_step(*args, **kwargs):
        result = step(*args, **kwargs)
        snapshots.append([parameter.detach().clone() for parameter in run.model.parameters()])
        return result

    run.optimizer.step = recording_step
    return snapshots
