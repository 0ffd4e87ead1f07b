"""Training a tagger: the whole run, from settings to report, callable from Python.

``seqlab tag train`` parses its flags and calls :func:`train`; a Python program calls it with the
same settings and gets the same files::

    from seqlab.tasks import tag
    report = tag.train("runs/ner", preset="lample-conll2003", overrides={"training": {"max_minutes": 5.0}})
    print(report.held_out)  # {'loss': ..., 'f1': ..., 'precision': ..., 'recall': ..., 'accuracy': ...}

Under ``torchrun`` every process calls it; rank 0 alone writes and reports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import torch

from seqlab.embeddings.formats import load_vectors
from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.embeddings.transfer import pretrained_matrix, rekeyed
from seqlab.errors import SeqlabError
from seqlab.models.sequence_tagger import SequenceTagger
from seqlab.models.tagger_configs import TaggerConfig
from seqlab.tasks.run_settings import Overrides
from seqlab.tasks.sentence_runs import PreparedRun, RunReport, Say, SentenceTaskSpec, train_sentence_task
from seqlab.tasks.tag.checkpoint import read_vocabularies, vocabulary_files
from seqlab.tasks.tag.config import DataConfig
from seqlab.tasks.tag.data import TaggingData, prepare_tagging_data, word_key
from seqlab.tasks.tag.presets import DEFAULT_PRESET, PRESETS
from seqlab.tasks.tag.task import TaggingTask
from seqlab.tasks.tag.transfer import SourceTagger, transfer_weights
from seqlab.tasks.task_settings import RunSettings
from seqlab.training.distributed import ProcessGroup

SPEC = SentenceTaskSpec(
    name="tag",
    presets=PRESETS,
    default_preset=DEFAULT_PRESET,
    model_class=TaggerConfig,
    data_class=DataConfig,
    derived=("vocab_size", "char_vocab_size", "tags", "scheme", "padding_id", "char_padding_id"),
)


def train(out: str | Path, *, preset: str | None = None, corpus: str | Path | None = None,
          overrides: Overrides | None = None, resume: bool = False, if_exists: str = "error", progress: bool = True,
          log: Callable[[str], None] = print) -> RunReport:  # fmt: skip
    """Train a tagger, writing checkpoints, ``metrics.jsonl`` and ``curves.png`` to ``out``.

    Args:
        out: the checkpoint directory.
        preset: a name of :data:`~seqlab.tasks.tag.presets.PRESETS`; ``lample-conll2003`` when None.
        corpus: a folder of CoNLL files (or its name under ``$SEQLAB_DATA``); None: the preset's.
        overrides: settings per section, e.g. ``{"model": {"hidden_size": 200}}``.
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
    """The data, the tagger (started from the vectors and from another tagger where given) and the task."""
    config: DataConfig = settings.data
    vectors = source = None
    if config.vectors and not resume:
        vectors = rekeyed(load_vectors(config.vectors), lambda word: word_key(word, config))
    if config.transfer_from and not resume:  # a resumed run has the source's words and weights already
        source = SourceTagger.load(config.transfer_from, config)
    extra_words = [
        *(vectors.index_to_key if vectors is not None else ()),
        *(source.words if source is not None else ()),
    ]
    data = prepare_tagging_data(config, vocabularies=read_vocabularies(out) if resume else None,
                                extra_words=extra_words,
                                extra_chars=source.characters if source is not None else ())  # fmt: skip
    model = _build_model(settings, data)
    lines = [f"  {data.describe()}"]
    if vectors is not None:
        found = _copy_vectors(model, data, vectors, settings)
        lines.append(f"vectors: {found:,} of {len(data.word_vocab):,} words from {config.vectors}")
    if source is not None:
        summary = transfer_weights(model, data.word_vocab, data.char_vocab, source, config)
        lines.append(summary.describe(source.directory, len(data.word_vocab)))
    parameters = sum(parameter.numel() for parameter in model.parameters())
    lines.append(f"model: {_describe(model.config)}, {parameters:,} parameters, on {device}")
    return PreparedRun(
        task=TaggingTask(data, config, device, seed=settings.training.seed, group=group),
        model=model.to(device),
        model_section=dataclasses.asdict(model.config),
        artefacts=vocabulary_files(data.word_vocab, data.char_vocab),
        fingerprint=data.fingerprint,
        origin=data.origin,
        lines=lines,
    )


def _build_model(settings: RunSettings, data: TaggingData) -> SequenceTagger:
    fields = {**settings.model, "vocab_size": len(data.word_vocab), "char_vocab_size": len(data.char_vocab),
              "tags": list(data.tags), "scheme": data.scheme, "padding_id": data.word_vocab.pad_id,
              "char_padding_id": data.char_vocab.pad_id}  # fmt: skip
    try:
        return SequenceTagger(TaggerConfig(**fields))
    except TypeError as error:
        raise SeqlabError(f"model settings: {error}") from None


def _copy_vectors(model: SequenceTagger, data: TaggingData, vectors: KeyedVectors, settings: RunSettings) -> int:
    """Copy the vectors' rows into the word embedding; the number of words found."""
    if vectors.vector_size != model.config.embedding_size:
        raise SeqlabError(f"{settings.data.vectors}: vectors of {vectors.vector_size} dimensions, but the model's "
                          f"embedding_size is {model.config.embedding_size}")  # fmt: skip
    matrix, found = pretrained_matrix(data.word_vocab.tokens, vectors, seed=settings.training.seed)
    with torch.no_grad():
        model.embedding.weight.copy_(torch.from_numpy(matrix))
    return found


def _describe(config: TaggerConfig) -> str:
    characters = {"none": "no characters", "lstm": f"character BiLSTM {config.char_hidden_size}",
                  "cnn": f"character CNN {config.char_hidden_size}x{config.char_window}"}  # fmt: skip
    return (
        f"{config.cell.upper()} {config.hidden_size} x2, {config.num_layers} layer(s), "
        f"{characters[config.character_features]}, {config.output} over {config.num_tags} {config.scheme} tags, "
        f"embedding {config.embedding_size}"
        + (" (frozen)" if config.freeze_embeddings else "")
        + f", dropout {config.dropout} {config.dropout_kind}"
        + (f", word dropout {config.word_dropout}" if config.word_dropout else "")
    )
