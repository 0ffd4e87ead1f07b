"""Seeding and saving the random number generators, so a resumed run repeats exactly."""

from __future__ import annotations

import random
from typing import Any

import torch


def seed_everything(seed: int, *, rank: int = 0) -> None:
    """Seed Python's ``random`` and torch (the CPU generator and every CUDA device's).

    Process ``rank`` of a distributed run seeds torch with ``seed + rank``, so processes
    draw different dropout masks, and Python's ``random`` with ``seed``, so they all draw
    the same window lengths (variable BPTT) and stay in step.
    """
    random.seed(seed)
    torch.manual_seed(seed + rank)


def capture_rng_states() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The current states of the generators :func:`seed_everything` seeds.

    Returns:
        ``(tensors, json_ready)``: the torch states as uint8 tensors (CPU first, then one per
        CUDA device, keyed ``"torch"``, ``"cuda.0"``, ...) and Python's state as JSON-ready
        lists, for :func:`restore_rng_states`.
    """
    tensors = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda.{index}"] = state
    version, internal, gauss_next = random.getstate()
    return tensors, {"python": [version, list(internal), gauss_next]}


def restore_rng_states(tensors: dict[str, torch.Tensor], json_ready: dict[str, Any]) -> None:
    """Put back the states returned by :func:`capture_rng_states`.

    CUDA states are restored only when this machine has the same number of CUDA devices,
    so a run started on a GPU can resume on a CPU (its dropout masks then differ).
    """
    torch.set_rng_state(tensors["torch"].cpu())
    cuda_keys = sorted((key for key in tensors if key.startswith("cuda.")), key=_device_index)
    cuda_states = [tensors[key].cpu() for key in cuda_keys]
    if cuda_states and torch.cuda.is_available() and len(cuda_states) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda_states)
    version, internal, gauss_next = json_ready["python"]
    random.setstate((version, tuple(internal), gauss_next))


def _device_index(key: str) -> int:
    return int(key.removeprefix("cuda."))
