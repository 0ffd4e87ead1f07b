"""A tagging run's files beside the engine's: the word and character vocabularies, and loading a tagger back.

``config.json`` holds the ``model`` section (:class:`~seqlab.models.tagger_configs.TaggerConfig`,
tags and scheme included) and the ``data`` section (how words were read); the vocabularies are
``word_vocab.json`` and ``char_vocab.json``, checked against their checksums when read.
"""

from __future__ import annotations

from pathlib import Path

import torch

from seqlab.checksums import verified_bytes
from seqlab.data.sequence_vocab import SequenceVocab
from seqlab.errors import SeqlabError
from seqlab.models.sequence_tagger import SequenceTagger
from seqlab.models.tagger_configs import TaggerConfig
from seqlab.tasks.saved_sections import model_and_data
from seqlab.tasks.tag.config import DataConfig
from seqlab.training.checkpoint import load_weights, require_checkpoint

VOCABULARY_FILES = ("word_vocab.json", "char_vocab.json")


def vocabulary_files(word_vocab: SequenceVocab, char_vocab: SequenceVocab) -> dict[str, bytes]:
    """The artefacts a checkpoint holds for both vocabularies, by file name."""
    return dict(zip(VOCABULARY_FILES, (word_vocab.to_bytes(), char_vocab.to_bytes())))


def read_vocabularies(directory: str | Path) -> tuple[SequenceVocab, SequenceVocab]:
    """The word and character vocabularies saved in a checkpoint."""
    paths = [require_checkpoint(directory) / name for name in VOCABULARY_FILES]
    words, chars = (SequenceVocab.from_bytes(verified_bytes(path), source=str(path)) for path in paths)
    return words, chars


def load_tagger(directory: str | Path, *, device: str | torch.device = "cpu",
                which: str = "best") -> tuple[SequenceTagger, SequenceVocab, SequenceVocab, DataConfig]:  # fmt: skip
    """The tagger (eval mode, on ``device``), its vocabularies and the run's data settings.

    Raises:
        SeqlabError: not a tagging checkpoint, a file missing or corrupt, or sizes that disagree.
    """
    config, data = model_and_data(directory, "tag", "a tagger", TaggerConfig, DataConfig)
    word_vocab, char_vocab = read_vocabularies(directory)
    if (config.vocab_size, config.char_vocab_size) != (len(word_vocab), len(char_vocab)):
        raise SeqlabError(f"{directory}: the model's vocabulary sizes differ from the saved vocabularies'")
    model = SequenceTagger(config)
    load_weights(model, directory, device, which=which)
    return model.eval(), word_vocab, char_vocab, data
