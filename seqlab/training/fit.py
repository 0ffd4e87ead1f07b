"""The life of a training run around the loop: start, resume or fine-tune; wrap for DDP; checkpoint; report.

:func:`fit` is what every task's ``train`` function calls once it has built its data, its
:class:`~seqlab.training.task.Task` and its model::

    start  ──  new: the model as built
          ├──  resume: the weights, optimiser, counters, carried state and RNGs of ``out``
          └──  from weights: another run's best (or last) weights, a fresh optimiser (fine-tuning)
      │
    train  ──  evaluate, record and checkpoint ``out`` atomically at every evaluation
      │
    result ──  why it stopped, the last held-out scores, and which weights to report with

Checkpoints hold the task's resolved configuration (``config.json``), its artefacts (a
vocabulary), the weights, the training state, and the run's files (``metrics.jsonl``,
``curves.png``, TensorBoard events), all made from the history the checkpoint itself holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from seqlab.training.checkpoint import (
    BEST_WEIGHTS_FILE,
    load_weights,
    require_checkpoint,
    restore_training_state,
    save_checkpoint,
)
from seqlab.training.config import TrainConfig
from seqlab.training.distributed import SINGLE_PROCESS, ProcessGroup, gather_objects
from seqlab.training.loop import TrainingRun, TrainResult, train
from seqlab.training.metrics_files import run_files
from seqlab.training.optim import make_optimizer
from seqlab.training.rng import capture_rng_states
from seqlab.training.step import TrainingDiverged
from seqlab.training.task import Selection, Task


@dataclass(frozen=True)
class StartFrom:
    """Where a run's weights come from: None for a new model, or another run's checkpoint."""

    directory: Path  # the checkpoint to start from
    weights: str = "best"  # "best" or "last"; best falls back to last where nothing was evaluated yet


@dataclass(frozen=True)
class FitResult:
    """How :func:`fit` ended."""

    run: TrainingRun
    result: TrainResult


def fit(
    task: Task,
    model: nn.Module,
    config: TrainConfig,
    out: Path,
    *,
    saved_config: dict[str, Any],
    artefacts: dict[str, str | bytes],
    resume: bool = False,
    start_from: StartFrom | None = None,
    title: str = "",
    group: ProcessGroup = SINGLE_PROCESS,
    device: torch.device | None = None,
    log: Callable[[str], None] = print,
    progress: bool = True,
) -> FitResult:
    """Train ``model`` on ``task`` under ``config``, checkpointing to ``out`` at every evaluation.

    Every process of a distributed run calls this with its own share of the task; rank 0
    writes the checkpoints, which hold the carried state of every process and every
    process's random-number state, so that a distributed run resumes exactly too.

    Args:
        task: the batches, loss and evaluation (this process's share).
        model: the model as built; its weights are replaced when resuming or starting from a run.
        config: the optimiser, schedules and limits.
        out: the checkpoint directory.
        saved_config: the resolved settings, written to ``config.json``.
        artefacts: further files of the trained model, by name (``vocab.json``).
        resume: continue the run saved in ``out``.
        start_from: begin from another run's weights with a fresh optimiser (fine-tuning).
        title: the title of ``curves.png``.
        group, device: this process's place in the run and its device.
        log: where the evaluation lines go.
        progress: show the progress of each epoch.

    Raises:
        TrainingDiverged: the loss became NaN or infinite; the message says where and which
            checkpoint is left to resume from.
    """
    run = TrainingRun.start(model, make_optimizer(model.parameters(), config))
    if resume:
        load_weights(model, out, device)
        restore_training_state(out, run, device, rank=group.rank)
        run.carry = task.own_carry(run.carry)
        log(f"resuming {out} at step {run.state.step} (epoch {run.state.epoch + 1})")
    elif start_from is not None:
        which = available_weights(start_from.directory, start_from.weights)
        load_weights(model, start_from.directory, device, which=which)
        log(f"fine-tuning the {which} weights of {start_from.directory}")

    def save(run: TrainingRun) -> None:
        carry, rng_states = task.gather_carry(run.carry), gather_objects(capture_rng_states(), group)
        if group.is_main:
            files = {**artefacts, **run_files(run.state.history, title=title, headline=task.headline)}
            save_checkpoint(out, model=model, config=saved_config, extra_files=files,
                            run=dataclasses.replace(run, carry=carry), rng_states=rng_states,
                            best=is_best(run.state.history, task.selection))  # fmt: skip

    forward_model = model
    if group.distributed:
        forward_model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    try:
        result = train(run, task, config, save=save, log=log, progress=progress and group.is_main, group=group,
                       device=device, forward_model=forward_model)  # fmt: skip
    except TrainingDiverged as error:
        history = run.state.history
        last = f"is from step {history[-1]['step']}" if history and out.exists() else "was never written"
        raise TrainingDiverged(
            f"{error}.\nThe last checkpoint in {out} {last}; resume from it with --resume and a lower --lr or "
            "--grad-clip"
        ) from None
    return FitResult(run=run, result=result)


def is_best(history: list[dict[str, Any]], selection: Selection) -> bool:
    """Whether the last evaluation has the best held-out score of all the run's evaluations (ties: the latest).

    Every evaluation is a candidate, the one a time or step limit makes part-way through an epoch
    included: it scores the same held-out text with the weights saved beside it.
    """
    if not history:
        return False
    key = f"valid_{selection.score}"
    best = selection.best([record[key] for record in history])
    return not selection.worse(history[-1][key], best)


def available_weights(directory: Path, wanted: str = "best") -> str:
    """``wanted`` ("best" or "last"), or "last" when the checkpoint has no best weights yet."""
    return "best" if wanted == "best" and (require_checkpoint(directory) / BEST_WEIGHTS_FILE).is_file() else "last"


@dataclass(frozen=True)
class ReportedWeights:
    """The weights a run is reported with, and the evaluation they were saved at."""

    which: str  # "best" (the evaluation with the best held-out score) or "last"
    record: dict[str, Any] | None  # that evaluation's line of the metrics log

    def held_out_scores(self) -> dict[str, float]:
        """The held-out scores recorded for these weights."""
        record = self.record or {}
        return {key.removeprefix("valid_"): value for key, value in record.items() if key.startswith("valid_")}

    def __str__(self) -> str:
        if self.record is None:
            return self.which
        if self.which == "best":
            epoch = round(self.record["epoch"]) if self.record["epoch_end"] else f"{self.record['epoch']:.2f}"
            return f"best (epoch {epoch}, step {self.record['step']:,})"
        return f"last (step {self.record['step']:,})"


def reported_weights(directory: Path, history: list[dict[str, Any]], selection: Selection) -> ReportedWeights:
    """The best weights of the checkpoint in ``directory`` when it has them, else the last.

    Best weights are saved at every evaluation that scores at least as well as all before it,
    so when several tie, the file holds the latest of them.
    """
    which = available_weights(directory)
    if which == "last":
        return ReportedWeights("last", history[-1] if history else None)
    key = f"valid_{selection.score}"
    best_score = selection.best([record[key] for record in history])
    return ReportedWeights("best", [record for record in history if record[key] == best_score][-1])
