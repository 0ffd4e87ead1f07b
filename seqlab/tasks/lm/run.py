"""Training a language model: the whole run, from settings to report, callable from Python.

``seqlab lm train`` parses its flags and calls :func:`train`; a Python program calls it with the
same settings and gets the same files::

    from seqlab.tasks import lm
    report = lm.train("runs/tiny", corpus="notes.txt", overrides={"training": {"max_minutes": 1.0}})
    print(report.held_out)  # {'loss': ..., 'perplexity': ..., 'bits_per_char': ...}

Under ``torchrun`` every process calls it; rank 0 alone writes and reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqlab import __version__
from seqlab.decode import generate
from seqlab.errors import SeqlabError
from seqlab.models.lm_configs import model_config, model_section
from seqlab.models.registry import build_model
from seqlab.tasks.lm.checkpoint import VOCAB_FILE, read_vocab
from seqlab.tasks.lm.data import LanguageModelData, prepare_lm_data
from seqlab.tasks.lm.settings import (
    LanguageModelSettings,
    Overrides,
    finetuning_settings,
    new_settings,
    resumed_settings,
)
from seqlab.tasks.lm.task import LanguageModelTask
from seqlab.training.checkpoint import load_weights, read_config
from seqlab.training.cpu_memory import keep_freed_memory
from seqlab.training.device import resolve_device
from seqlab.training.distributed import barrier, check_divisible, end_process_group, start_process_group
from seqlab.training.evaluation import evaluate_split
from seqlab.training.fit import StartFrom, fit, reported_weights
from seqlab.training.out_directory import holds_earlier_run, prepare_out_directory
from seqlab.training.rng import seed_everything

IF_EXISTS = ("error", "resume")  # what a new run does when --out already holds a run


@dataclass(frozen=True)
class LanguageModelReport:
    """How a run ended: what :func:`train` returns (on every process; rank 0 printed it)."""

    out: Path  # the checkpoint directory
    stop_reason: str  # which limit ended the run, in words
    steps: int  # optimiser steps taken in all
    weights: str  # which weights the scores below are of: "best (epoch 3, step 2,000)" or "last (...)"
    held_out: dict[str, float]  # held-out scores of those weights
    test: dict[str, float] | None  # test scores of those weights, when the run finished and the corpus has a test part


def train(
    out: str | Path,
    *,
    preset: str | None = None,
    corpus: str | Path | None = None,
    overrides: Overrides | None = None,
    resume: bool = False,
    finetune_from: str | Path | None = None,
    if_exists: str = "error",
    samples: int = 2,
    sample_length: int = 400,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> LanguageModelReport:
    """Train a language model, writing checkpoints, ``metrics.jsonl`` and ``curves.png`` to ``out``.

    Args:
        out: the checkpoint directory.
        preset: a name of :data:`~seqlab.tasks.lm.presets.PRESETS`; ``demo`` when None.
        corpus: a text file or corpus directory; None: the preset's (the Python standard library).
        overrides: settings per section, e.g. ``{"model": {"hidden_size": 650}}``.
        resume: continue the run in ``out``.
        finetune_from: start a fine-tuning run from this run's best weights (AWD-LSTM).
        if_exists: what a new run does when ``out`` holds a run: ``"error"``, or ``"resume"`` it.
        samples: how many samples to print at the end; ``sample_length`` tokens each.
        progress: show each epoch's progress.
        log: where every line goes (rank 0 only).

    Raises:
        SeqlabError: bad settings or data (one line naming the problem).
        TrainingDiverged: the loss became NaN or infinite; the last checkpoint is kept.
    """
    out = Path(out)
    if if_exists not in IF_EXISTS:
        raise SeqlabError(f"if_exists must be one of {IF_EXISTS}, got {if_exists!r}")
    if resume and finetune_from is not None:
        raise SeqlabError("--resume continues a run and --finetune-from starts one: give one of them")
    earlier = None
    if not resume and finetune_from is None and if_exists == "resume" and holds_earlier_run(out):
        resume, earlier = True, out
    if resume:
        settings = resumed_settings(out, overrides, preset, corpus)
    else:
        prepare_out_directory(out)
        if finetune_from is not None:
            settings = finetuning_settings(Path(finetune_from), overrides, preset)
        else:
            settings = new_settings(preset, corpus, overrides)
    group, device = start_process_group(resolve_device(settings.training.device))
    say = log if group.is_main else _silent
    if earlier is not None:
        say(f"{out} holds an earlier run: continuing it (delete the directory to start afresh)")
    try:
        return _run(out, settings, resume, finetune_from, group, device, say, samples, sample_length, progress)
    finally:
        end_process_group(group)


def _run(out, settings: LanguageModelSettings, resume, finetune_from, group, device, say, samples, sample_length,
         progress) -> LanguageModelReport:  # fmt: skip
    """The run proper, once the settings and the processes are known."""
    check_divisible(settings.data.batch_size, group)
    if device.type == "cpu":
        keep_freed_memory()
    seed_everything(settings.training.seed, rank=group.rank)
    origin = out if resume else (Path(finetune_from) if finetune_from else None)
    data = prepare_lm_data(settings.data, vocab=read_vocab(origin) if origin else None)
    if origin is not None:
        _check_same_corpus(origin, data, resumed=resume)
    say(f"corpus: {data.source}")
    say(f"  {data.describe()}")
    say(f"settings: {settings.origin}")
    config = model_config({**settings.model, "vocab_size": len(data.vocab)}, source=f"preset {settings.preset!r}")
    model = build_model(config).to(device)
    processes = f" x {group.world_size} processes" if group.distributed else ""
    say(f"model: {describe_model(config)}, {model.num_parameters():,} parameters, on {device}{processes}")
    task = LanguageModelTask(data, settings.data, device, group)
    saved_config = {"seqlab_version": __version__, "task": "lm", **settings.sections(),
                    "model": model_section(config), "corpus": data.fingerprint}  # fmt: skip
    title = f"{settings.preset}: {Path(settings.data.corpus).name if settings.data.corpus else 'standard library'}"
    start_from = StartFrom(Path(finetune_from)) if finetune_from else None
    started = time.monotonic()
    fitted = fit(task, model, settings.training, out, saved_config=saved_config,
                 artefacts={VOCAB_FILE: data.vocab.to_bytes()}, resume=resume, start_from=start_from, title=title,
                 group=group, device=device, log=say, progress=progress)  # fmt: skip
    return _report(out, fitted, task, data, group, device, say, samples, sample_length,
                   seed=settings.training.seed, minutes=(time.monotonic() - started) / 60)  # fmt: skip


def _report(out, fitted, task, data: LanguageModelData, group, device, say, samples, sample_length, *,
            seed: int, minutes: float) -> LanguageModelReport:  # fmt: skip
    """The end of a run, with the weights ``seqlab lm evaluate`` and ``generate`` use by default.

    Those are the best weights (the evaluation with the best held-out score), the last ones where
    nothing was evaluated; every process loads them from the checkpoint just written.
    """
    run, result = fitted.run, fitted.result
    barrier(group)  # rank 0 has written the last checkpoint before anyone reads it
    weights = reported_weights(out, run.state.history, task.selection)
    load_weights(run.model, out, device, which=weights.which)
    held_out = weights.held_out_scores()
    test = None
    if "test" in task.streams and result.finished:
        test = evaluate_split(task, run.model, "test", group=group, device=device)
    say(f"stopped: {result.stop_reason} after {minutes:.1f} min, step {run.state.step}, "
        f"{run.state.tokens_seen:,} {task.unit}s seen")  # fmt: skip
    say(f"weights: {weights} (what `seqlab lm evaluate` and `generate` use by default)")
    say(f"held-out: {task.summary(held_out)}")
    if test is not None:
        say(f"test: {task.summary(test)}")
    say(f"checkpoint: {out}  (sample with: seqlab lm generate {out})")
    if group.is_main:
        for index in range(samples):
            sample = generate(run.model, data.vocab, length=sample_length, seed=seed + index)
            say(f"\n----- sample {index + 1} -----\n{sample}")
    return LanguageModelReport(out, result.stop_reason, run.state.step, str(weights), held_out, test)


def _check_same_corpus(origin: Path, data: LanguageModelData, *, resumed: bool) -> None:
    if read_config(origin).get("corpus") != data.fingerprint:
        what = "--resume" if resumed else "--finetune-from"
        raise SeqlabError(
            f"{what}: {data.source} is not the text {origin} was trained on "
            f"(its size or SHA-256 differs from {origin / 'config.json'})"
        )


def describe_model(config: Any) -> str:
    """The model in a few words: ``LSTM 200/200, embedding 200, vocabulary 10000``."""
    section = model_section(config)
    if section["architecture"] == "fixed-window":
        return (
            f"fixed-window model, {config.context_size} tokens of context, embedding {config.embedding_size}, "
            f"hidden {config.hidden_size}, vocabulary {config.vocab_size}"
        )
    sizes = "/".join(str(hidden) for _, hidden in config.layer_sizes())
    tied = ", tied" if config.tie_weights else ""
    return f"{config.cell.upper()} {sizes}, embedding {config.embedding_size}{tied}, vocabulary {config.vocab_size}"


def _silent(*args: Any, **kwargs: Any) -> None:
    """Prints nothing: what every process but rank 0 of a distributed run says."""
