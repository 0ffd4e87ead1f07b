"""A classification run's files beside the engine's: the vocabulary, and loading a classifier back.

``config.json`` holds the ``model`` section (:class:`~seqlab.models.classifier_configs.ClassifierConfig`)
and the ``data`` section (the labels and how words were read); the vocabulary is ``vocab.json``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from seqlab.checksums import verified_bytes
from seqlab.data.sequence_vocab import SequenceVocab
from seqlab.errors import SeqlabError
from seqlab.models.classifier_configs import ClassifierConfig
from seqlab.models.sentence_classifier import SentenceClassifier
from seqlab.tasks.classify.config import DataConfig
from seqlab.tasks.saved_sections import model_and_data
from seqlab.training.checkpoint import load_weights, require_checkpoint

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
    config, data = model_and_data(directory, "classify", "a classifier", ClassifierConfig, DataConfig)
    vocab = read_vocabulary(directory)
    if config.vocab_size != len(vocab):
        raise SeqlabError(f"{directory}: the model's vocabulary size differs from the saved vocabulary's")
    model = SentenceClassifier(config)
    load_weights(model, directory, device, which=which)
    return model.eval(), vocab, data
