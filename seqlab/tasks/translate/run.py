"""Training a translation model: the whole run, from settings to report, callable from Python.

``seqlab translate train`` parses its flags and calls :func:`train`; a Python program calls it with
the same settings and gets the same files::

    from seqlab.tasks import translate
    report = translate.train("runs/dates", preset="dates", overrides={"training": {"max_minutes": 2.0}})
    print(report.held_out)  # {'loss': ..., 'perplexity': ..., 'bleu': ..., 'exact_match': ...}

Under ``torchrun`` every process calls it; rank 0 alone writes and reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqlab import __version__
from seqlab.errors import SeqlabError
from seqlab.tasks.run_settings import Overrides
from seqlab.tasks.translate.checkpoint import read_vocabularies, vocabulary_files
from seqlab.tasks.translate.data import TranslationData, prepare_translation_data
from seqlab.tasks.translate.models import build_model, describe_model, model_section
from seqlab.tasks.translate.settings import TranslationSettings, new_settings, resumed_settings
from seqlab.tasks.translate.task import TranslationTask
from seqlab.training.checkpoint import load_weights, read_config
from seqlab.training.cpu_memory import keep_freed_memory
from seqlab.training.device import resolve_device
from seqlab.training.distributed import barrier, end_process_group, start_process_group
from seqlab.training.fit import fit, reported_weights
from seqlab.training.out_directory import holds_earlier_run, prepare_out_directory
from seqlab.training.rng import seed_everything

IF_EXISTS = ("error", "resume")


@dataclass(frozen=True)
class TranslationReport:
    """How a run ended: what :func:`train` returns (on every process; rank 0 printed it)."""

    out: Path  # the checkpoint directory
    stop_reason: str  # which limit ended the run, in words
    steps: int  # optimiser steps taken in all
    weights: str  # which weights the scores are of: "best (epoch 3, step 2,000)" or "last (...)"
    held_out: dict[str, float]  # held-out (valid) scores of those weights; the test split is left alone


def train(
    out: str | Path,
    *,
    preset: str | None = None,
    corpus: str | Path | None = None,
    overrides: Overrides | None = None,
    resume: bool = False,
    if_exists: str = "error",
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> TranslationReport:
    """Train a translation model, writing checkpoints, ``metrics.jsonl`` and ``curves.png`` to ``out``.

    Args:
        out: the checkpoint directory.
        preset: a name of :data:`~seqlab.tasks.translate.presets.PRESETS`; ``dates`` when None.
        corpus: a Multi30k-style folder (or its name under ``$SEQLAB_DATA``); None: the preset's.
        overrides: settings per section, e.g. ``{"model": {"hidden_size": 256}}``.
        resume: continue the run in ``out``.
        if_exists: what a new run does when ``out`` holds a run: ``"error"``, or ``"resume"`` it.
        progress: show each epoch's progress.
        log: where every line goes (rank 0 only).

    Raises:
        SeqlabError: bad settings or data (one line naming the problem).
        TrainingDiverged: the loss became NaN or infinite; the last checkpoint is kept.
    """
    out = Path(out)
    if if_exists not in IF_EXISTS:
        raise SeqlabError(f"if_exists must be one of {IF_EXISTS}, got {if_exists!r}")
    earlier = None
    if not resume and if_exists == "resume" and holds_earlier_run(out):
        resume, earlier = True, out
    if resume:
        if corpus is not None or preset is not None:
            raise SeqlabError("--resume continues a run with its own preset and corpus: drop them")
        settings = resumed_settings(out, overrides)
    else:
        settings = new_settings(preset, corpus, overrides)
        prepare_out_directory(out)
    group, device = start_process_group(resolve_device(settings.training.device))
    say = log if group.is_main else _silent
    if earlier is not None:
        say(f"{out} holds an earlier run: continuing it (delete the directory to start afresh)")
    try:
        return _run(out, settings, resume, group, device, say, progress)
    finally:
        end_process_group(group)


def _run(out: Path, settings: TranslationSettings, resume: bool, group, device, say, progress) -> TranslationReport:
    """The run proper, once the settings and the processes are known."""
    if device.type == "cpu":
        keep_freed_memory()
    seed_everything(settings.training.seed, rank=group.rank)
    vocabularies = read_vocabularies(out, settings.data.units) if resume else None
    data = prepare_translation_data(settings.data, vocabularies=vocabularies)
    if resume and read_config(out).get("corpus") != data.fingerprint:
        raise SeqlabError(f"--resume: {data.origin} is not the text {out} was trained on (its SHA-256 differs)")
    say(f"data: {data.origin}")
    say(f"  {data.describe()}")
    say(f"settings: {settings.origin}")
    section = {**settings.model, "source_vocab_size": len(data.source_vocab),
               "target_vocab_size": len(data.target_vocab), "padding_id": data.target_vocab.pad_id}  # fmt: skip
    model = build_model(section, source=f"preset {settings.preset!r}").to(device)
    parameters = sum(parameter.numel() for parameter in model.parameters())
    say(f"model: {describe_model(model)}, {parameters:,} parameters, on {device}")
    task = TranslationTask(data, settings.data, settings.objective, device, seed=settings.training.seed, group=group)
    saved_config = {"seqlab_version": __version__, "task": "translate", **settings.sections(),
                    "model": model_section(model), "corpus": data.fingerprint}  # fmt: skip
    started = time.monotonic()
    fitted = fit(task, model, settings.training, out, saved_config=saved_config,
                 artefacts=vocabulary_files((data.source_vocab, data.target_vocab), settings.data.units),
                 resume=resume, title=f"{settings.preset}: {data.origin}", group=group, device=device, log=say,
                 progress=progress)  # fmt: skip
    return _report(out, fitted, task, data, group, device, say, minutes=(time.monotonic() - started) / 60)


def _report(out, fitted, task: TranslationTask, data: TranslationData, group, device, say, *,
            minutes: float) -> TranslationReport:  # fmt: skip
    """The end of a run, with the weights ``seqlab translate run`` uses by default (the best ones)."""
    run, result = fitted.run, fitted.result
    barrier(group)  # rank 0 has written the last checkpoint before anyone reads it
    weights = reported_weights(out, run.state.history, task.selection)
    load_weights(run.model, out, device, which=weights.which)
    held_out = weights.held_out_scores()
    say(f"stopped: {result.stop_reason} after {minutes:.1f} min, step {run.state.step}, "
        f"{run.state.tokens_seen:,} target tokens seen")  # fmt: skip
    say(f"weights: {weights} (what `seqlab translate run` uses by default)")
    say(f"held-out: {task.summary(held_out)}")
    say(f"checkpoint: {out}  (translate with: seqlab translate run {out})")
    return TranslationReport(out, result.stop_reason, run.state.step, str(weights), held_out)


def _silent(*args: Any, **kwargs: Any) -> None:
    """Prints nothing: what every process but rank 0 of a distributed run says."""
