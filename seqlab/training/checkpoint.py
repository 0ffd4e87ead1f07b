"""Checkpoints: a directory of safetensors and JSON files, written atomically, never pickled.

A checkpoint directory holds::

    model.safetensors           the weights
    config.json                 the resolved model, data and training configs
    vocab.json                  the vocabulary (a frozen artefact, see CharVocab)
    training_state.safetensors  optimiser state, RNG states, the carried model state,
                                and (in its JSON metadata) the step/epoch counters

The last file is needed only to resume training; the first three are the trained model.
Everything is written into a temporary directory next to the target, flushed to disk, and
then renamed into place, so a crash leaves either the old checkpoint or the new one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_model, save_file, save_model
from torch import nn

from seqlab.data.vocab import CharVocab
from seqlab.errors import SeqlabError
from seqlab.training.rng import capture_rng_states, restore_rng_states
from seqlab.training.state import TrainingState

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.json"
TRAINING_STATE_FILE = "training_state.safetensors"
MODEL_FILES = (WEIGHTS_FILE, CONFIG_FILE, VOCAB_FILE)


def save_checkpoint(
    directory: str | Path,
    *,
    model: nn.Module,
    config: dict[str, Any],
    vocab: CharVocab,
    optimizer: torch.optim.Optimizer | None = None,
    state: TrainingState | None = None,
    carry: Any = None,
) -> Path:
    """Write a checkpoint to ``directory`` atomically, replacing any checkpoint there.

    Args:
        directory: the checkpoint directory; its parent is created if needed.
        model: its ``state_dict`` is saved (tied weights once).
        config: the resolved configuration, JSON-ready.
        vocab: the vocabulary the model was trained with.
        optimizer: with ``state``, saved so training can resume.
        state: the run's counters, with ``optimizer``.
        carry: the model state carried into the next window: None, a tensor, or a tuple
            of tensors.

    Returns:
        The checkpoint directory.

    Raises:
        SeqlabError: ``directory`` exists and holds files but no checkpoint (it is left
            alone rather than replaced).
    """
    directory = Path(directory)
    _refuse_to_replace_other_files(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    try:
        save_model(model, str(staging / WEIGHTS_FILE))
        _write_json(staging / CONFIG_FILE, config)
        vocab.save(staging / VOCAB_FILE)
        if optimizer is not None and state is not None:
            _save_training_state(staging / TRAINING_STATE_FILE, optimizer, state, carry)
        _make_permissions_ordinary(staging)
        for path in staging.iterdir():
            _fsync(path)
        _fsync(staging)
        _swap_into_place(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


def require_checkpoint(directory: str | Path, *, for_resume: bool = False) -> Path:
    """``directory`` as a Path, after checking it holds a complete checkpoint.

    Raises:
        SeqlabError: the directory or one of its files is missing.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SeqlabError(f"checkpoint directory not found: {directory}")
    needed = MODEL_FILES + ((TRAINING_STATE_FILE,) if for_resume else ())
    missing = [name for name in needed if not (directory / name).is_file()]
    if missing:
        raise SeqlabError(f"{directory}: incomplete checkpoint, missing {', '.join(missing)}")
    return directory


def read_config(directory: str | Path) -> dict[str, Any]:
    """The configuration saved in a checkpoint's ``config.json``."""
    path = require_checkpoint(directory) / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise SeqlabError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(config, dict):
        raise SeqlabError(f"{path}: expected a JSON object")
    return config


def read_vocab(directory: str | Path) -> CharVocab:
    """The vocabulary saved in a checkpoint's ``vocab.json``."""
    return CharVocab.load(require_checkpoint(directory) / VOCAB_FILE)


def load_weights(model: nn.Module, directory: str | Path, device: str | torch.device) -> None:
    """Load a checkpoint's weights into ``model``, onto ``device``, whatever they were saved on.

    Raises:
        SeqlabError: the weights' names or shapes do not match ``model``.
    """
    path = require_checkpoint(directory) / WEIGHTS_FILE
    try:
        load_model(model, str(path), strict=True, device=str(device))
    except (RuntimeError, SafetensorError) as error:
        first_line = str(error).strip().splitlines()[0]
        raise SeqlabError(f"{path}: weights do not match {CONFIG_FILE}: {first_line}") from None
    model.to(device)


def restore_training_state(
    directory: str | Path, optimizer: torch.optim.Optimizer, device: str | torch.device
) -> tuple[TrainingState, Any]:
    """Restore the optimiser and the RNGs from a checkpoint; return its counters and carry.

    The optimiser state is loaded through the CPU and moved by ``load_state_dict`` to its
    parameters' device. The carry is put on ``device``.

    Returns:
        ``(state, carry)`` to pass to :func:`~seqlab.training.loop.train`.
    """
    path = require_checkpoint(directory, for_resume=True) / TRAINING_STATE_FILE
    try:
        with safe_open(str(path), framework="pt", device="cpu") as file:
            metadata = json.loads(file.metadata()["json"])
            tensors = {key: file.get_tensor(key) for key in file.keys()}
        optimizer.load_state_dict(_optimizer_state_dict(tensors, metadata["optimizer"]))
        restore_rng_states(_with_prefix(tensors, "rng."), metadata["rng"])
        state = TrainingState(**metadata["state"])
    except (SafetensorError, ValueError, KeyError, TypeError) as error:
        raise SeqlabError(f"{path}: unreadable or mismatched training state: {error}") from None
    carry = _unflatten_carry(_with_prefix(tensors, "carry."), metadata["carry"], device)
    return state, carry


def _save_training_state(path: Path, optimizer: torch.optim.Optimizer, state: TrainingState, carry: Any) -> None:
    optimizer_tensors, optimizer_json = _flatten_optimizer(optimizer.state_dict())
    rng_tensors, rng_json = capture_rng_states()
    carry_tensors, carry_kind = _flatten_carry(carry)
    tensors = {
        **{f"optimizer.{key}": value for key, value in optimizer_tensors.items()},
        **{f"rng.{key}": value for key, value in rng_tensors.items()},
        **{f"carry.{key}": value for key, value in carry_tensors.items()},
    }
    metadata = {
        "state": dataclasses.asdict(state),
        "optimizer": optimizer_json,
        "rng": rng_json,
        "carry": carry_kind,
    }
    tensors = {key: value.detach().cpu().contiguous() for key, value in tensors.items()}
    save_file(tensors, str(path), metadata={"json": json.dumps(metadata)})


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


def _flatten_carry(carry: Any) -> tuple[dict[str, torch.Tensor], str]:
    if carry is None:
        return {}, "none"
    if isinstance(carry, torch.Tensor):
        return {"0": carry}, "tensor"
    if isinstance(carry, (tuple, list)) and all(isinstance(part, torch.Tensor) for part in carry):
        return {str(index): part for index, part in enumerate(carry)}, "tuple"
    raise TypeError(f"cannot checkpoint a carried state of type {type(carry).__name__}")


def _unflatten_carry(tensors: dict[str, torch.Tensor], kind: str, device: Any) -> Any:
    parts = [tensors[str(index)].to(device) for index in range(len(tensors))]
    if kind == "none":
        return None
    return parts[0] if kind == "tensor" else tuple(parts)


def _with_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)}


def _refuse_to_replace_other_files(directory: Path) -> None:
    if directory.is_file() or (
        directory.is_dir() and any(directory.iterdir()) and not any((directory / name).exists() for name in MODEL_FILES)
    ):
        raise SeqlabError(f"{directory} exists and is not a seqlab checkpoint; choose another directory")


def _swap_into_place(staging: Path, directory: Path) -> None:
    """Rename ``staging`` to ``directory``, replacing an existing checkpoint.

    POSIX cannot rename a directory over a non-empty one, so the old checkpoint is first
    renamed aside; a crash between the two renames leaves it complete under that name.
    """
    retired = None
    if directory.exists():
        retired = directory.with_name(f".{directory.name}.old-{secrets.token_hex(4)}")
        os.rename(directory, retired)
    os.rename(staging, directory)
    _fsync(directory.parent)
    if retired is not None:
        shutil.rmtree(retired)


def _make_permissions_ordinary(staging: Path) -> None:
    """Give the checkpoint the permissions of any new file, not mkdtemp's owner-only ones."""
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    for path in staging.iterdir():
        path.chmod(0o666 & ~umask)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _fsync(path: Path) -> None:
    """Flush a file, or a directory's entries, to disk (directories only where supported)."""
    if path.is_dir() and os.name == "nt":
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
