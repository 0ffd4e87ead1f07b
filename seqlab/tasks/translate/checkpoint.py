"""A translation run's files beside the engine's: both vocabularies, and loading a trained model back.

``config.json`` holds the ``model`` section (``architecture`` and that architecture's fields), and
the ``data`` and ``objective`` sections; the vocabularies are ``source_vocab`` and ``target_vocab``
(``.json`` for words and characters, ``.model``, sentencepiece's protobuf, for subwords), checked
against their checksums when read like every file of a checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqlab.checksums import verified_bytes
from seqlab.configs import from_dict
from seqlab.data.sequence_vocab import SequenceVocab
from seqlab.data.subwords import SubwordTokenizer
from seqlab.decode.ensemble import Ensemble
from seqlab.errors import SeqlabError
from seqlab.tasks.saved_sections import task_config
from seqlab.tasks.translate.config import DataConfig, ObjectiveConfig
from seqlab.tasks.translate.data import Vocabulary
from seqlab.tasks.translate.models import build_model
from seqlab.training.checkpoint import CONFIG_FILE, load_weights, require_checkpoint

SIDES = ("source", "target")


def vocabulary_file(side: str, units: str) -> str:
    """The file name of one side's vocabulary for these units."""
    return f"{side}_vocab" + (".model" if units == "subword" else ".json")


def vocabulary_files(vocabularies: tuple[Vocabulary, Vocabulary], units: str) -> dict[str, bytes]:
    """The artefacts a checkpoint holds for both vocabularies, by file name."""
    return {vocabulary_file(side, units): vocab.to_bytes() for side, vocab in zip(SIDES, vocabularies)}


def read_vocabularies(directory: str | Path, units: str) -> tuple[Vocabulary, Vocabulary]:
    """The source and target vocabularies saved in a checkpoint."""
    vocabularies = []
    for side in SIDES:
        path = require_checkpoint(directory) / vocabulary_file(side, units)
        data = verified_bytes(path)
        if units == "subword":
            vocabularies.append(SubwordTokenizer.from_bytes(data, source=str(path)))
        else:
            vocabularies.append(SequenceVocab.from_bytes(data, source=str(path)))
    return vocabularies[0], vocabularies[1]


def read_sections(directory: str | Path) -> tuple[dict[str, Any], DataConfig, ObjectiveConfig]:
    """The model section, data and objective settings of a translation checkpoint."""
    saved = task_config(directory, "translate", "a translation model")
    source = str(Path(directory) / CONFIG_FILE)
    data = from_dict(DataConfig, saved.get("data") or {}, source=source)
    objective = from_dict(ObjectiveConfig, saved.get("objective") or {}, source=source)
    return saved.get("model") or {}, data, objective


def load_translation_model(
    directory: str | Path, *, device: str | torch.device = "cpu", which: str = "best"
) -> tuple[nn.Module, Vocabulary, Vocabulary, DataConfig, ObjectiveConfig]:
    """The model (eval mode, on ``device``), both vocabularies and the run's data and objective settings.

    Raises:
        SeqlabError: not a translation checkpoint, a file missing or corrupt, or sizes that disagree.
    """
    model_section, data, objective = read_sections(directory)
    source_vocab, target_vocab = read_vocabularies(directory, data.units)
    model = build_model(model_section, source=str(Path(directory) / CONFIG_FILE))
    if (model.config.source_vocab_size, model.config.target_vocab_size) != (len(source_vocab), len(target_vocab)):
        raise SeqlabError(f"{directory}: the model's vocabulary sizes differ from the saved vocabularies'")
    load_weights(model, directory, device, which=which)
    return model.eval(), source_vocab, target_vocab, data, objective


def load_translation_ensemble(
    directories: list[str | Path], *, device: str | torch.device = "cpu", which: str = "best"
) -> tuple[nn.Module, Vocabulary, Vocabulary, DataConfig, ObjectiveConfig]:
    """Several runs decoded as one (:class:`~seqlab.decode.Ensemble`), as :func:`load_translation_model` returns.

    One directory gives its model alone. The data and objective settings are the first run's.

    Raises:
        SeqlabError: as :func:`load_translation_model`; or a run whose units or vocabularies differ
            from the first's (an ensemble averages distributions over the same ids).
    """
    first, *others = directories
    model, source_vocab, target_vocab, data, objective = load_translation_model(first, device=device, which=which)
    if not others:
        return model, source_vocab, target_vocab, data, objective
    members = [model]
    expected = vocabulary_files((source_vocab, target_vocab), data.units)
    for directory in others:
        member, *vocabularies, member_data, _ = load_translation_model(directory, device=device, which=which)
        if member_data.units != data.units:
            raise SeqlabError(f"{directory}: its units are {member_data.units!r}, {first}'s {data.units!r}: an "
                              "ensemble needs the same vocabularies")  # fmt: skip
        found = vocabulary_files(tuple(vocabularies), data.units)
        differing = [name for name in expected if found[name] != expected[name]]
        if differing:
            raise SeqlabError(f"{directory}: its {differing[0]} differs from {first}'s: an ensemble needs the "
                              "same vocabularies (runs on one text with the same units and sizes)")  # fmt: skip
        members.append(member)
    return Ensemble(members).eval(), source_vocab, target_vocab, data, objective
