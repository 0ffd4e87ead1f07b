"""The settings of a translation run and where they come from: a preset with overrides, or a checkpoint.

Four sections, as ``config.json`` holds them: ``model`` (:class:`~seqlab.models.seq2seq_configs.Seq2SeqConfig`
fields but the vocabulary sizes, which come from the data), ``training``
(:class:`~seqlab.training.config.TrainConfig`), ``data`` and ``objective``
(:mod:`seqlab.tasks.translate.config`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqlab.configs import from_dict, replace_fields
from seqlab.errors import SeqlabError
from seqlab.tasks.run_settings import (
    Overrides,
    check_model_fields,
    check_unchanged,
    checked_overrides,
    find_corpus,
    overridden,
)
from seqlab.tasks.translate.config import MODEL_CONFIGS, DataConfig, ObjectiveConfig
from seqlab.tasks.translate.presets import get_preset
from seqlab.training.checkpoint import CONFIG_FILE, read_config, require_checkpoint
from seqlab.training.config import TrainConfig

SECTIONS = ("model", "training", "data", "objective")
DEFAULT_PRESET = "dates"
VOCABULARY_SIZES = ("source_vocab_size", "target_vocab_size", "padding_id")  # set from the data


@dataclass(frozen=True)
class TranslationSettings:
    """Everything a translation run is configured by."""

    preset: str
    model: dict[str, Any]  # "architecture" and its config's fields, but the vocabulary sizes
    training: TrainConfig
    data: DataConfig
    objective: ObjectiveConfig
    origin: str  # where the settings came from, in words, for the log

    def sections(self) -> dict[str, Any]:
        """The ``preset`` and the four sections of ``config.json``."""
        return {"preset": self.preset, "model": self.model, "training": dataclasses.asdict(self.training),
                "data": dataclasses.asdict(self.data), "objective": dataclasses.asdict(self.objective)}  # fmt: skip


def new_settings(preset: str | None = None, corpus: str | Path | None = None,
                 overrides: Overrides | None = None) -> TranslationSettings:  # fmt: skip
    """A new run's settings: the preset (``dates`` when None) with ``corpus`` and the overrides applied."""
    overrides = checked_overrides(overrides, SECTIONS)
    name = preset or DEFAULT_PRESET
    chosen = get_preset(name)
    model = {**chosen.model, **overrides["model"]}
    architecture = model.get("architecture", "rnn")
    if architecture not in MODEL_CONFIGS:
        raise SeqlabError(f"unknown architecture {architecture!r}; choose from {', '.join(sorted(MODEL_CONFIGS))}")
    check_model_fields(
        {k: v for k, v in overrides["model"].items() if k != "architecture"}, MODEL_CONFIGS[architecture]
    )
    data = replace_fields(chosen.data, overrides["data"], what="data config")
    if corpus is not None:
        data = dataclasses.replace(data, corpus=find_corpus(str(corpus)))
    elif data.corpus is not None:
        data = dataclasses.replace(data, corpus=find_corpus(data.corpus))
    origin = f"preset {name!r}" + ("" if preset else " (the default, as no preset was named)")
    return TranslationSettings(
        preset=name,
        model=model,
        training=replace_fields(chosen.training, overrides["training"], what="training config"),
        data=data,
        objective=replace_fields(chosen.objective, overrides["objective"], what="objective config"),
        origin=origin + overridden(overrides),
    )


def resumed_settings(out: Path, overrides: Overrides | None = None) -> TranslationSettings:
    """The settings of the run saved in ``out``; overrides may only repeat them or be resumable."""
    overrides = checked_overrides(overrides, SECTIONS)
    saved = read_config(require_checkpoint(out, for_resume=True))
    source = str(out / CONFIG_FILE)
    if saved.get("task") != "translate":
        raise SeqlabError(f"--resume: {out} holds a run of the {saved.get('task', 'lm')!r} task, not translate")
    for section in SECTIONS:
        if not isinstance(saved.get(section), dict):
            raise SeqlabError(f"{source}: no {section!r} section")
        check_unchanged(section, overrides[section], saved[section], out)
    training = from_dict(TrainConfig, saved["training"], source=source)
    return TranslationSettings(
        preset=saved.get("preset", DEFAULT_PRESET),
        model={key: value for key, value in saved["model"].items() if key not in VOCABULARY_SIZES},
        training=replace_fields(training, overrides["training"], what="training config"),
        data=from_dict(DataConfig, saved["data"], source=source),
        objective=from_dict(ObjectiveConfig, saved["objective"], source=source),
        origin=f"{source}, the run being resumed" + overridden(overrides),
    )
