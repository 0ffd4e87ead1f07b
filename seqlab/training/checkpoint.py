"""Checkpoints: a directory of safetensors and JSON files, written atomically, never pickled.

A checkpoint directory holds::

    model.safetensors           the weights (the averaged ones once ASGD averages)
    best.safetensors            the weights at the epoch end with the lowest held-out loss so far
    config.json                 the resolved model, data and training configs
    vocab.json                  the vocabulary (a frozen artefact, see seqlab.data.vocab)
    training_state.safetensors  optimiser state, RNG states, the carried model state,
                                the weight averages and the raw weights when averaging,
                                and (in its JSON metadata) the counters and metrics history
    ...                         any further files the caller adds (metrics log, plots)

The training state is needed only to resume training; the first three are the trained model.
Everything is written into a temporary directory next to the target, flushed to disk, and
then renamed into place, so a crash leaves either the old checkpoint or the new one.
"""

from __future__ import annotations

import contextlib
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

from seqlab.data.vocab import Vocab
from seqlab.errors import SeqlabError
from seqlab.training.loop import TrainingRun
from seqlab.training.rng import capture_rng_states, restore_rng_states
from seqlab.training.state import TrainingState

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.json"
TRAINING_STATE_FILE = "training_state.safetensors"
BEST_WEIGHTS_FILE = "best.safetensors"
WEIGHTS = {"last": WEIGHTS_FILE, "best": BEST_WEIGHTS_FILE}
MODEL_FILES = (WEIGHTS_FILE, CONFIG_FILE, VOCAB_FILE)


def save_checkpoint(
    directory: str | Path,
    *,
    model: nn.Module,
    config: dict[str, Any],
    vocab: Vocab,
    run: TrainingRun | None = None,
    extra_files: dict[str, str | bytes] | None = None,
    best: bool = False,
    rng_states: list[tuple[dict[str, torch.Tensor], dict[str, Any]]] | None = None,
) -> Path:
    """Write a checkpoint to ``directory`` atomically, replacing any checkpoint there.

    Args:
        directory: the checkpoint directory; its parent is created if needed.
        model: its ``state_dict`` is saved (tied weights once); the averaged weights when
            ``run`` averages.
        config: the resolved configuration, JSON-ready.
        vocab: the vocabulary the model was trained with.
        run: the training run of ``model``, saved so training can resume.
        extra_files: more files to write into the checkpoint, by name (text or bytes).
        best: these weights are the best so far, to keep as ``best.safetensors`` too;
            otherwise the checkpoint being replaced passes its best weights on.
        rng_states: the random-number states of every process of a distributed run, in
            rank order (:func:`~seqlab.training.rng.capture_rng_states` of each); None saves
            this process's.

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
        averager = run.averager if run is not None else None
        with averager.applied() if averager is not None else contextlib.nullcontext():
            save_model(model, str(staging / WEIGHTS_FILE))
        if best:
            shutil.copyfile(staging / WEIGHTS_FILE, staging / BEST_WEIGHTS_FILE)
        elif (directory / BEST_WEIGHTS_FILE).is_file():
            _link_or_copy(directory / BEST_WEIGHTS_FILE, staging / BEST_WEIGHTS_FILE)
        _write_json(staging / CONFIG_FILE, config)
        vocab.save(staging / VOCAB_FILE)
        if run is not None:
            _save_training_state(staging / TRAINING_STATE_FILE, run, rng_states or [capture_rng_states()])
        for name, content in (extra_files or {}).items():
            path = staging / name
            path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
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


def read_vocab(directory: str | Path) -> Vocab:
    """The vocabulary saved in a checkpoint's ``vocab.json``, of whichever kind it is."""
    return Vocab.load(require_checkpoint(directory) / VOCAB_FILE)


def load_weights(model: nn.Module, directory: str | Path, device: str | torch.device, *, which: str = "last") -> None:
    """Load a checkpoint's weights into ``model``, onto ``device``, whatever they were saved on.

    Args:
        which: ``"last"`` (the weights when the checkpoint was written) or ``"best"`` (those
            of the epoch end with the lowest held-out loss).

    Raises:
        SeqlabError: the weights' names or shapes do not match ``model``, or there are no
            best weights (no epoch has ended).
    """
    path = require_checkpoint(directory) / WEIGHTS[which]
    if not path.is_file():
        raise SeqlabError(f"{path}: no best weights yet (written at the first epoch end); use the last weights")
    try:
        load_model(model, str(path), strict=True, device=str(device))
    except (RuntimeError, SafetensorError) as error:
        first_line = str(error).strip().splitlines()[0]
        raise SeqlabError(f"{path}: weights do not match {CONFIG_FILE}: {first_line}") from None
    model.to(device)


def restore_training_state(
    directory: str | Path, run: TrainingRun, device: str | torch.device, *, rank: int = 0
) -> None:
    """Restore a run from a checkpoint into ``run``, whose model already holds the saved weights.

    Restores the optimiser, the RNGs, the counters, the carried state (put on ``device``)
    and, when the run was averaging, the raw weights and their running averages. The
    optimiser state is loaded through the CPU and moved by ``load_state_dict`` to its
    parameters' device. Process ``rank`` of a distributed run takes its own random-number
    state (rank 0's when the checkpoint has fewer processes); the carry is every stream's.
    """
    path = require_checkpoint(directory, for_resume=True) / TRAINING_STATE_FILE
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


def _save_training_state(path: Path, run: TrainingRun, rng_states: list) -> None:
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


def _link_or_copy(source: Path, target: Path) -> None:
    """Pass an unchanged file on to the new checkpoint: a hard link (no copying) where possible."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


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
