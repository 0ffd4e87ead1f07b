"""The training state of a checkpoint: optimiser, RNGs, counters, carried state, weight averages.

One safetensors file, ``training_state.safetensors``: every tensor under a prefixed key
(``optimizer.``, ``carry.``, ``rng.RANK.``, ``raw.`` and ``average.``), and everything else (the
counters and metrics history, the optimiser's hyper-parameters, the shape of the carried state)
as JSON in the file's metadata. Nothing is pickled.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from seqlab.errors import SeqlabError
from seqlab.training.rng import restore_rng_states
from seqlab.training.state import TrainingState

if TYPE_CHECKING:
    from seqlab.training.loop import TrainingRun


def read_training_state(path: Path, run: TrainingRun, device: str | torch.device, *, rank: int = 0) -> None:
    """Restore a run from the training-state file ``path`` into ``run``, whose model holds the saved weights.

    Restores the optimiser, the RNGs, the counters, the carried state (put on ``device``)
    and, when the run was averaging, the raw weights and their running averages. The
    optimiser state is loaded through the CPU and moved by ``load_state_dict`` to its
    parameters' device. Process ``rank`` of a distributed run takes its own random-number
    state (rank 0's when the checkpoint has fewer processes); the carry is every stream's.

    Raises:
        SeqlabError: the training state does not fit ``run``.
    """
    try:
        with safe_open(str(path), framework="pt", device="cpu") as file:
            metadata = json.loads(file.metadata()["json"])
            tensors = {key: file.get_tensor(key) for key in file.keys()}
        run.optimizer.load_state_dict(_optimizer_state_dict(tensors, metadata["optimizer"]))
        saved_rank = rank if rank < len(metadata["rng"]) else 0
        restore_rng_states(_with_prefix(tensors, f"rng.{saved_rank}."), metadata["rng"][saved_rank])
        run.state = TrainingState(**metadata["state"])
        averaging = metadata["averaging"]
        if averaging["count"]:
            _restore_averaging(run, tensors, averaging["count"])
    except (SafetensorError, ValueError, KeyError, TypeError) as error:
        raise SeqlabError(f"{path}: unreadable or mismatched training state: {error}") from None
    run.carry = _unflatten_carry(_with_prefix(tensors, "carry."), metadata["carry"], device)


def write_training_state(path: Path, run: TrainingRun, rng_states: list) -> None:
    """Write ``run``'s state (but its model's weights) to ``path``, with the RNG states of every process.

    Once averaging has started, the raw weights are saved beside the averages, since the
    checkpoint's weights file holds the averaged ones.
    """
    optimizer_tensors, optimizer_json = _flatten_optimizer(run.optimizer.state_dict())
    carry_tensors, carry_structure = _flatten_carry(run.carry)
    tensors = {
        **{f"optimizer.{key}": value for key, value in optimizer_tensors.items()},
        **{f"carry.{key}": value for key, value in carry_tensors.items()},
    }
    for rank, (rng_tensors, _) in enumerate(rng_states):
        tensors |= {f"rng.{rank}.{key}": value for key, value in rng_tensors.items()}
    if run.averager.active:
        for (name, parameter), average in zip(run.model.named_parameters(), run.averager.averages, strict=True):
            tensors[f"raw.{name}"] = parameter
            tensors[f"average.{name}"] = average
    metadata = {
        "state": dataclasses.asdict(run.state),
        "optimizer": optimizer_json,
        "rng": [rng_json for _, rng_json in rng_states],
        "carry": carry_structure,
        "averaging": {"count": run.averager.count},
    }
    tensors = {key: value.detach().cpu().contiguous() for key, value in tensors.items()}
    save_file(tensors, str(path), metadata={"json": json.dumps(metadata)})


@torch.no_grad()
def _restore_averaging(run: TrainingRun, tensors: dict[str, torch.Tensor], count: int) -> None:
    """Put the raw weights back into the model and the averages into the averager."""
    names = [name for name, _ in run.model.named_parameters()]
    for name, parameter in run.model.named_parameters():
        parameter.copy_(tensors[f"raw.{name}"])
    run.averager.load([tensors[f"average.{name}"] for name in names], count)


def _flatten_optimizer(state_dict: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """Tensors keyed ``"{param}.{name}"``, and everything else as JSON."""
    tensors: dict[str, torch.Tensor] = {}
    other: dict[str, dict[str, Any]] = {}
    for param_id, entries in state_dict["state"].items():
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{param_id}.{name}"] = value
            else:
                other.setdefault(str(param_id), {})[name] = value
    return tensors, {"param_groups": state_dict["param_groups"], "other": other}


def _optimizer_state_dict(tensors: dict[str, torch.Tensor], saved: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for key, value in _with_prefix(tensors, "optimizer.").items():
        param_id, name = key.split(".", 1)
        state.setdefault(int(param_id), {})[name] = value
    for param_id, entries in saved["other"].items():
        state.setdefault(int(param_id), {}).update(entries)
    # JSON turned tuples such as Adam's betas into lists; the optimisers expect tuples.
    groups = [
        {key: tuple(value) if isinstance(value, list) and key != "params" else value for key, value in group.items()}
        for group in saved["param_groups"]
    ]
    return {"state": state, "param_groups": groups}


def _flatten_carry(carry: Any) -> tuple[dict[str, torch.Tensor], Any]:
    """The tensors of a carried state, numbered, and its structure as JSON.

    The structure is ``null`` for None, the tensor's number for a tensor, and a list of
    structures for a tuple or list, so nested states (a tuple per layer) round-trip.
    """
    tensors: dict[str, torch.Tensor] = {}

    def structure(part: Any) -> Any:
        if part is None:
            return None
        if isinstance(part, torch.Tensor):
            tensors[str(len(tensors))] = part
            return len(tensors) - 1
        if isinstance(part, (tuple, list)):
            return {"tuple" if isinstance(part, tuple) else "list": [structure(item) for item in part]}
        raise TypeError(f"cannot checkpoint a carried state of type {type(part).__name__}")

    return tensors, structure(carry)


def _unflatten_carry(tensors: dict[str, torch.Tensor], structure: Any, device: Any) -> Any:
    if structure is None:
        return None
    if isinstance(structure, int):
        return tensors[str(structure)].to(device)
    ((kind, items),) = structure.items()
    parts = [_unflatten_carry(tensors, item, device) for item in items]
    return tuple(parts) if kind == "tuple" else parts


def _with_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)}
