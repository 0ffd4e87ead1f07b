"""The device a run asks for by name: ``cpu``, ``cuda``, ``cuda:1``, or ``auto``."""

from __future__ import annotations

import torch

from seqlab.errors import SeqlabError


def resolve_device(name: str) -> torch.device:
    """The torch device ``name`` means; ``"auto"`` is CUDA when available, else CPU.

    Raises:
        SeqlabError: the name is not a device, or CUDA is asked for where there is none.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SeqlabError(f"unknown device {name!r}; try cpu, cuda or auto") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SeqlabError(f"device {name!r} asked for, but CUDA is not available here")
    return device
