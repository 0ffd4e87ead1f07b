"""Checkpoints: a directory of safetensors and JSON files, written atomically, never pickled.

A checkpoint directory holds::

    model.safetensors           the weights (the averaged ones once ASGD averages)
    best.safetensors            the weights at the evaluation with the best held-out score so far
    config.json                 the resolved settings of the run (the task's sections)
    training_state.safetensors  optimiser state, RNG states, the carried model state,
                                the weight averages and the raw weights when averaging,
                                and (in its JSON metadata) the counters and metrics history
    ...                         the task's artefacts (a vocabulary) and the run's files (metrics log, plots)
    checksums.json              the size and SHA-256 of every other file (:mod:`seqlab.checksums`)

The training state is needed only to resume training; the weights, the config and the
task's artefacts are the trained model. Every file is checked against ``checksums.json``
before it is read, so a damaged file is reported as corrupt, by name (checkpoints written
before seqlab kept checksums load unchecked).

A checkpoint is replaced as a whole (:mod:`seqlab.atomic_directory`): a run killed at any
instant of a save, even by SIGKILL, resumes from the old checkpoint or the new one.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_model, save_model
from torch import nn

from seqlab.atomic_directory import link_or_copy, open_directory, replaced_directory
from seqlab.checksums import MANIFEST_FILE, file_digest, read_manifest, verified_bytes, verify_file
from seqlab.errors import SeqlabError
from seqlab.training.rng import capture_rng_states
from seqlab.training.training_state_file import read_training_state, write_training_state

if TYPE_CHECKING:
    from seqlab.training.loop import TrainingRun

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
TRAINING_STATE_FILE = "training_state.safetensors"
BEST_WEIGHTS_FILE = "best.safetensors"
WEIGHTS = {"last": WEIGHTS_FILE, "best": BEST_WEIGHTS_FILE}
MODEL_FILES = (WEIGHTS_FILE, CONFIG_FILE)
# The files the functions here check as they read them; opening a checkpoint to resume
# checks the others (artefacts, logs, plots), which the run carries on unread.
_CHECKED_WHEN_READ = (WEIGHTS_FILE, BEST_WEIGHTS_FILE, CONFIG_FILE, TRAINING_STATE_FILE)
_RESERVED = {*_CHECKED_WHEN_READ, MANIFEST_FILE}


def save_checkpoint(
    directory: str | Path,
    *,
    model: nn.Module,
    config: dict[str, Any],
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
        run: the training run of ``model``, saved so training can resume.
        extra_files: more files to write into the checkpoint, by name (text or bytes): the
            task's artefacts (``vocab.json``) and the run's logs and plots.
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
        CorruptFileError: the best weights to pass on from the checkpoint being replaced
            do not match its ``checksums.json``.
        ValueError: an extra file has the name of one the checkpoint writes itself.
    """
    clashes = sorted(_RESERVED.intersection(extra_files or {}))
    if clashes:
        raise ValueError(f"extra_files may not replace the checkpoint's own {', '.join(clashes)}")
    with replaced_directory(directory, required=MODEL_FILES, kind="seqlab checkpoint") as staged:
        staged.known_digests = _write_model_files(staged.path, Path(directory), model=model, run=run, best=best)
        (staged.path / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        if run is not None:
            write_training_state(staged.path / TRAINING_STATE_FILE, run, rng_states or [capture_rng_states()])
        for name, content in (extra_files or {}).items():
            path = staged.path / name
            path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    return Path(directory)


def require_checkpoint(directory: str | Path, *, for_resume: bool = False) -> Path:
    """``directory`` as a Path, after checking it holds a complete checkpoint.

    A save killed part-way is finished or undone first
    (:func:`~seqlab.atomic_directory.open_directory`), so a run killed at any instant resumes
    from the newest complete checkpoint. To resume, the files
    a run carries on without reading them (artefacts, logs, plots) are checked here too.

    Raises:
        SeqlabError: the directory or one of its files is missing.
        CorruptFileError: ``checksums.json``, or (``for_resume``) a file carried on, is damaged.
    """
    directory = open_directory(directory, required=MODEL_FILES)
    if not directory.is_dir():
        raise SeqlabError(f"checkpoint directory not found: {directory}")
    needed = MODEL_FILES + ((TRAINING_STATE_FILE,) if for_resume else ())
    missing = [name for name in needed if not (directory / name).is_file()]
    if missing:
        raise SeqlabError(f"{directory}: incomplete checkpoint, missing {', '.join(missing)}")
    if for_resume:
        for name in read_manifest(directory) or {}:
            if name not in _CHECKED_WHEN_READ:
                verify_file(directory / name)
    return directory


def read_config(directory: str | Path) -> dict[str, Any]:
    """The configuration saved in a checkpoint's ``config.json``."""
    path = require_checkpoint(directory) / CONFIG_FILE
    data = verified_bytes(path)
    try:
        config = json.loads(data.decode("utf-8"))
    except ValueError as error:
        raise SeqlabError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(config, dict):
        raise SeqlabError(f"{path}: expected a JSON object")
    return config


def load_weights(model: nn.Module, directory: str | Path, device: str | torch.device, *, which: str = "last") -> None:
    """Load a checkpoint's weights into ``model``, onto ``device``, whatever they were saved on.

    Args:
        which: ``"last"`` (the weights when the checkpoint was written) or ``"best"`` (those
            of the evaluation with the best held-out score).

    Raises:
        SeqlabError: the weights' names or shapes do not match ``model``, there are no best
            weights (nothing was evaluated yet), or the file is not safetensors.
        CorruptFileError: the file does not match ``checksums.json`` (truncated, bytes changed).
    """
    path = require_checkpoint(directory) / WEIGHTS[which]
    if not path.is_file() and path.name not in (read_manifest(path.parent) or {}):
        raise SeqlabError(f"{path}: no best weights yet (written at the first evaluation); use the last weights")
    verify_file(path)
    try:
        load_model(model, str(path), strict=True, device=str(device))
    except SafetensorError as error:  # written before checksums were kept, so not caught above
        raise SeqlabError(f"{path}: not a readable safetensors file (truncated or damaged?): {error}") from None
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[0]
        raise SeqlabError(f"{path}: weights do not match {CONFIG_FILE}: {first_line}") from None
    model.to(device)


def restore_training_state(
    directory: str | Path, run: TrainingRun, device: str | torch.device, *, rank: int = 0
) -> None:
    """Restore a run from a checkpoint into ``run``, whose model already holds the saved weights.

    See :func:`~seqlab.training.training_state_file.read_training_state`.

    Raises:
        SeqlabError: the training state does not fit ``run``.
        CorruptFileError: a file of the checkpoint does not match ``checksums.json``.
    """
    path = require_checkpoint(directory, for_resume=True) / TRAINING_STATE_FILE
    verify_file(path)
    read_training_state(path, run, device, rank=rank)


def _write_model_files(
    staging: Path, directory: Path, *, model: nn.Module, run: TrainingRun | None, best: bool
) -> dict[str, dict[str, Any]]:
    """Write the weights and the best weights into ``staging``; the digests already known, by name.

    Best weights passed on from the checkpoint in ``directory`` are checked against its
    ``checksums.json`` first, and listed with the digest recorded there, not hashed again.
    """
    averager = run.averager if run is not None else None
    with averager.applied() if averager is not None else contextlib.nullcontext():
        save_model(model, str(staging / WEIGHTS_FILE))
    if best:
        digest = file_digest(staging / WEIGHTS_FILE)
        shutil.copyfile(staging / WEIGHTS_FILE, staging / BEST_WEIGHTS_FILE)
        return {WEIGHTS_FILE: digest, BEST_WEIGHTS_FILE: digest}  # the copy is checked against it when read
    passed_on = directory / BEST_WEIGHTS_FILE
    if not passed_on.is_file():
        return {}
    recorded = (read_manifest(directory) or {}).get(BEST_WEIGHTS_FILE)
    if recorded is not None:
        verify_file(passed_on)
    link_or_copy(passed_on, staging / BEST_WEIGHTS_FILE)
    return {BEST_WEIGHTS_FILE: recorded} if recorded is not None else {}
