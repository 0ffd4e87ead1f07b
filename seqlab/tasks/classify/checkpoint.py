"""A classification run's files beside the engine's: the vocabulary, and loading a classifier back.

``config.json`` holds the ``model`` section (:class:`~seqlab.models.classifier_configs.ClassifierConfig`)
and the ``data`` section (the labels and how words were read); the vocabulary is ``vocab.json``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from seqlab.checksums import verified_bytes
from seqlab.configs import from_dict
from seqlab.data.sequence_vocab import SequenceVocab
from seqlab.errors import SeqlabError
from seqlab.models.classifier_configs import ClassifierConfig
from seqlab.models.sentence_classifier import SentenceClassifier
from seqlab.tasks.classify.config import DataConfig
from seqlab.training.checkpoint import CONFIG_FILE, load_weights, read_config, require_checkpoint

VOCABULARY_FILE = "vocab.json"


def read_vocabulary(directory: str | Path) -> SequenceVocab:
    """The word vocabulary saved in a checkpoint."""
    path = require_checkpoint(directory) / VOCABULARY_FILE
    return SequenceVocab.from_bytes(verified_bytes(path), source=str(path))


def load_classifier(directory: str | Path, *, device: str | torch.device = "cpu",
                    which: str = "best") -> tuple[SentenceClassifier, SequenceVocab, DataConfig]:  # fmt: skip
    """The classifier (eval mode, on ``device``), its vocabulary and the run's data settings.

    Raises:
        SeqlabError: not a classification checkpoint, a file missing or corrupt, or sizes that disagree.
    """
    saved = read_config(directory)
    source = str(Path(directory) / CONFIG_FILE)
    if saved.get("task") != "classify":
        raise SeqlabError(f"{directory}: a checkpoint of the {saved.get('task', 'lm')!r} task, not a classifier")
    config = from_dict(ClassifierConfig, saved.get("model") or {}, source=source)
    data = from_dict(DataConfig, saved.get("data") or {}, source=source)
    vocab = read_vocabulary(directory)
    if config.vocab_size != len(vocab):
        raise SeqlabError(f"{directory}: the model's vocabulary size differs from the saved vocabulary's")
    model = SentenceClassifier(config)
    load_weights(model, directory, device, which=which)
    return model.eval(), vocab, data
