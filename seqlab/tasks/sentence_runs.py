"""The run of a task on labelled sentences (classification, tagging), from settings to report.

Both tasks run the same way: settings from a preset with overrides (or from the checkpoint being
resumed), the processes of a distributed run started, the data read and the model built by the
task (:class:`PreparedRun`), the engine's :func:`~seqlab.training.fit.fit`, and a report of the
weights that ``evaluate`` and ``predict`` (``transcribe``, ...) use by default. Under ``torchrun`` every process calls
:func:`train_sentence_task`; rank 0 alone writes and reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqlab import __version__
from seqlab.errors import SeqlabError
from seqlab.tasks.run_settings import Overrides, absolute, find_corpus
from seqlab.tasks.task_preset import TaskPreset
from seqlab.tasks.task_settings import RunSettings, new_run_settings, resumed_run_settings
from seqlab.training.checkpoint import load_weights, read_config
from seqlab.training.cpu_memory import keep_freed_memory
from seqlab.training.device import resolve_device
from seqlab.training.distributed import ProcessGroup, barrier, end_process_group, start_process_group
from seqlab.training.fit import fit, reported_weights
from seqlab.training.out_directory import holds_earlier_run, prepare_out_directory
from seqlab.training.rng import seed_everything
from seqlab.training.task import Task

Say = Callable[[str], None]


@dataclass(frozen=True)
class SentenceTaskSpec:
    """What tells one sentence task's runs from another's."""

    name: str  # the task as config.json names it: "classify", "tag"
    presets: Mapping[str, TaskPreset]
    default_preset: str
    model_class: type  # the model's config dataclass (its fields are the model section)
    data_class: type  # the task's data config dataclass
    derived: tuple[str, ...]  # model fields the data sets, left out of the settings
    uses: str = "predict"  # the command that, besides evaluate, uses the trained model


@dataclass(frozen=True)
class PreparedRun:
    """What a task hands the engine: its data as a Task, the model, and the files that go with it."""

    task: Task
    model: nn.Module
    model_section: dict[str, Any]  # the model's config, as config.json holds it
    artefacts: dict[str, bytes]  # the vocabularies, by file name
    fingerprint: dict[str, Any]  # identifies the text trained on, so that --resume can check it
    origin: str  # the data, in words, for the log and the curves' title
    lines: list[str]  # what to log about the data and the model


@dataclass(frozen=True)
class RunReport:
    """How a run ended: what :func:`train_sentence_task` returns (on every process; rank 0 printed it)."""

    out: Path
    stop_reason: str
    steps: int
    weights: str  # which weights the scores are of: "best (epoch 3, step 2,000)" or "last (...)"
    held_out: dict[str, float]  # held-out (dev) scores of those weights


Prepare = Callable[[RunSettings, Path, bool, ProcessGroup, torch.device, Say], PreparedRun]


def train_sentence_task(spec: SentenceTaskSpec, prepare: Prepare, out: str | Path, *, preset: str | None,
                        corpus: str | Path | None, overrides: Overrides | None, resume: bool, if_exists: str,
                        progress: bool, log: Say) -> RunReport:  # fmt: skip
    """Train ``spec``'s model in ``out``; ``prepare(settings, out, resume, group, device, say)`` reads the data
    and builds the model and the task for this process.

    Raises:
        SeqlabError: bad settings or data (one line naming the problem).
        TrainingDiverged: the loss became NaN or infinite; the last checkpoint is kept.
    """
    out = Path(out)
    if not resume and if_exists == "resume" and holds_earlier_run(out):
        resume = True
        log(f"{out} holds an earlier run: continuing it (delete the directory to start afresh)")
    settings = _settings(spec, out, preset, corpus, overrides, resume)
    if not resume:
        prepare_out_directory(out)
    group, device = start_process_group(resolve_device(settings.training.device))
    say = log if group.is_main else _silent
    try:
        if device.type == "cpu":
            keep_freed_memory()
        seed_everything(settings.training.seed, rank=group.rank)
        prepared = prepare(settings, out, resume, group, device, say)
        if resume and read_config(out).get("corpus") != prepared.fingerprint:
            raise SeqlabError(f"--resume: {prepared.origin} is not the text {out} was trained on (its SHA-256 differs)")
        for line in (f"data: {prepared.origin}", *prepared.lines[:-1], f"settings: {settings.origin}",
                     prepared.lines[-1]):  # fmt: skip
            say(line)
        return _fit(spec, out, settings, prepared, resume, group, device, say, progress)
    finally:
        end_process_group(group)


def _settings(spec: SentenceTaskSpec, out: Path, preset: str | None, corpus: str | Path | None,
              overrides: Overrides | None, resume: bool) -> RunSettings:  # fmt: skip
    if resume:
        if corpus is not None or preset is not None:
            raise SeqlabError("--resume continues a run with its own preset and corpus: drop them")
        return resumed_run_settings(spec.name, out, spec.data_class, spec.derived, overrides=overrides)
    name = preset or spec.default_preset
    if name not in spec.presets:
        raise SeqlabError(f"unknown preset {name!r}; choose from {', '.join(sorted(spec.presets))}")
    data_overrides = {"corpus": find_corpus(str(corpus) if corpus is not None else spec.presets[name].data.corpus)}
    for field in ("vectors", "transfer_from"):  # paths kept in the run's config, valid from any folder
        path = (overrides or {}).get("data", {}).get(field)
        if path:
            data_overrides[field] = absolute(path)
    return new_run_settings(spec.name, spec.presets, name, spec.model_class, overrides=overrides,
                            data_overrides=data_overrides, default=preset is None)  # fmt: skip


def _fit(spec: SentenceTaskSpec, out: Path, settings: RunSettings, prepared: PreparedRun, resume: bool,
         group: ProcessGroup, device: torch.device, say: Say, progress: bool) -> RunReport:  # fmt: skip
    saved_config = {"seqlab_version": __version__, **settings.sections(), "model": prepared.model_section,
                    "corpus": prepared.fingerprint}  # fmt: skip
    started = time.monotonic()
    fitted = fit(prepared.task, prepared.model, settings.training, out, saved_config=saved_config,
                 artefacts=prepared.artefacts, resume=resume, title=f"{settings.preset}: {prepared.origin}",
                 group=group, device=device, log=say, progress=progress)  # fmt: skip
    run, result = fitted.run, fitted.result
    barrier(group)  # rank 0 has written the last checkpoint before anyone reads it
    weights = reported_weights(out, run.state.history, prepared.task.selection)
    load_weights(run.model, out, device, which=weights.which)
    held_out = weights.held_out_scores()
    say(f"stopped: {result.stop_reason} after {(time.monotonic() - started) / 60:.1f} min, step {run.state.step}")
    say(f"weights: {weights} (what `seqlab {settings.task} evaluate` and `{spec.uses}` use by default)")
    say(f"held-out: {prepared.task.summary(held_out)}")
    say(f"checkpoint: {out}  (report with: seqlab {settings.task} evaluate {out})")
    return RunReport(out, result.stop_reason, run.state.step, str(weights), held_out)


def _silent(*args: Any, **kwargs: Any) -> None:
    """Prints nothing: what every process but rank 0 of a distributed run says."""
