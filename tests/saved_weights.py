"""The weights a run saved, read back for comparing runs."""

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
