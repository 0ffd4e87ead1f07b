"""Training a sentence classifier: the whole run, from settings to report, callable from Python.

``seqlab classify train`` parses its flags and calls :func:`train`; a Python program calls it with
the same settings and gets the same files::

    from seqlab.tasks import classify
    report = classify.train("runs/sst", preset="bilstm-sst", overrides={"data": {"labels": "binary"}})
    print(report.held_out)  # {'loss': ..., 'accuracy': ..., 'macro_f1': ..., 'f1_0': ..., ...}

Under ``torchrun`` every process calls it; rank 0 alone writes and reports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import torch

from seqlab.embeddings.formats import load_vectors
from seqlab.embeddings.transfer import pretrained_matrix, rekeyed
from seqlab.errors import SeqlabError
from seqlab.models.classifier_configs import ClassifierConfig
from seqlab.models.sentence_classifier import SentenceClassifier
from seqlab.tasks.classify.checkpoint import VOCABULARY_FILE, read_vocabulary
from seqlab.tasks.classify.config import DataConfig
from seqlab.tasks.classify.data import prepare_classification_data, word_key
from seqlab.tasks.classify.presets import DEFAULT_PRESET, PRESETS
from seqlab.tasks.classify.task import ClassificationTask
from seqlab.tasks.run_settings import Overrides
from seqlab.tasks.sentence_runs import PreparedRun, RunReport, Say, SentenceTaskSpec, train_sentence_task
from seqlab.tasks.task_settings import RunSettings
from seqlab.training.distributed import ProcessGroup

SPEC = SentenceTaskSpec(
    name="classify",
    presets=PRESETS,
    default_preset=DEFAULT_PRESET,
    model_class=ClassifierConfig,
    data_class=DataConfig,
    derived=("vocab_size", "num_classes", "padding_id"),
)


def train(out: str | Path, *, preset: str | None = None, corpus: str | Path | None = None,
          overrides: Overrides | None = None, resume: bool = False, if_exists: str = "error", progress: bool = True,
          log: Callable[[str], None] = print) -> RunReport:  # fmt: skip
    """Train a sentence classifier, writing checkpoints, ``metrics.jsonl`` and ``curves.png`` to ``out``.

    Args:
        out: the checkpoint directory.
        preset: a name of :data:`~seqlab.tasks.classify.presets.PRESETS`; ``bilstm-sst`` when None.
        corpus: a folder of Sentiment Treebank files (or its name under ``$SEQLAB_DATA``); None: the preset's.
        overrides: settings per section, e.g. ``{"data": {"labels": "binary"}}``.
        resume: continue the run in ``out``; if_exists: ``"error"`` or ``"resume"`` when ``out`` holds a run.
        progress: show each epoch's progress; log: where every line goes (rank 0 only).

    Raises:
        SeqlabError: bad settings or data (one line naming the problem).
        TrainingDiverged: the loss became NaN or infinite; the last checkpoint is kept.
    """
    return train_sentence_task(SPEC, _prepare, out, preset=preset, corpus=corpus, overrides=overrides, resume=resume,
                               if_exists=if_exists, progress=progress, log=log)  # fmt: skip


def _prepare(settings: RunSettings, out: Path, resume: bool, group: ProcessGroup, device: torch.device,
             say: Say) -> PreparedRun:  # fmt: skip
    """The data, the classifier (its embedding started from the vectors where given) and the task."""
    config: DataConfig = settings.data
    vectors = None
    if config.vectors and not resume:
        vectors = rekeyed(load_vectors(config.vectors), lambda word: word_key(word, config))
    data = prepare_classification_data(config, vocab=read_vocabulary(out) if resume else None,
                                       extra_words=vectors.index_to_key if vectors is not None else ())  # fmt: skip
    fields = {**settings.model, "vocab_size": len(data.vocab), "num_classes": len(data.class_names),
              "padding_id": data.vocab.pad_id}  # fmt: skip
    try:
        model = SentenceClassifier(ClassifierConfig(**fields))
    except TypeError as error:
        raise SeqlabError(f"model settings: {error}") from None
    lines = [f"  {data.describe()}"]
    if vectors is not None:
        if vectors.vector_size != model.config.embedding_size:
            raise SeqlabError(f"{config.vectors}: vectors of {vectors.vector_size} dimensions, but the model's "
                              f"embedding_size is {model.config.embedding_size}")  # fmt: skip
        matrix, found = pretrained_matrix(data.vocab.tokens, vectors, seed=settings.training.seed)
        model.load_pretrained_embeddings(matrix)
        lines.append(f"vectors: {found:,} of {len(data.vocab):,} words from {config.vectors}")
    parameters = sum(parameter.numel() for parameter in model.parameters())
    lines.append(f"model: {_describe(model.config)}, {parameters:,} parameters, on {device}")
    return PreparedRun(
        task=ClassificationTask(data, config, device, seed=settings.training.seed, group=group),
        model=model.to(device),
        model_section=dataclasses.asdict(model.config),
        artefacts={VOCABULARY_FILE: data.vocab.to_bytes()},
        fingerprint=data.fingerprint,
        origin=data.origin,
        lines=lines,
    )


def _describe(config: ClassifierConfig) -> str:
    frozen = " (frozen)" if config.freeze_embeddings else ""
    if config.encoder == "average":
        return f"mean of {config.embedding_size}-d word vectors{frozen}, {config.num_classes} classes"
    direction = "bidirectional " if config.bidirectional else ""
    return (
        f"{direction}{config.encoder.upper()} {config.hidden_size} x {config.num_layers} layer(s), "
        f"{config.pooling} pooling, embedding {config.embedding_size}{frozen}, {config.num_classes} classes"
    )
