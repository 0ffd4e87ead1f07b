"""The settings of a language-model run, and where they come from: a preset, a checkpoint, or a run to fine-tune.

Every run has three sections of settings, as ``config.json`` holds them: ``model`` (the
architecture and its fields), ``training`` (:class:`~seqlab.training.config.TrainConfig`)
and ``data`` (:class:`~seqlab.tasks.lm.config.DataConfig`). Overrides are given per section,
``{"model": {"hidden_size": 650}, "training": {"epochs": 1}}``, as the command line's flags
give them.

- A **new run** takes a preset (``demo`` when none is named) with the overrides.
- A **resumed run** takes the checkpoint's settings; only :data:`RESUMABLE_SETTINGS` may change.
- A **fine-tuning run** (AWD-LSTM's second stage) takes another run's settings, switched to
  averaged SGD that stops when validation stalls.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqlab.configs import from_dict, replace_fields
from seqlab.errors import SeqlabError
from seqlab.models.lm_configs import MODEL_CONFIGS
from seqlab.tasks.lm.config import DataConfig
from seqlab.tasks.lm.presets import PRESETS, get_preset
from seqlab.tasks.run_settings import (
    Overrides,
    absolute,
    check_model_fields,
    check_unchanged,
    checked_overrides,
    overridden,
)
from seqlab.training.checkpoint import CONFIG_FILE, read_config, require_checkpoint
from seqlab.training.config import TrainConfig

SECTIONS = ("model", "training", "data")
DEFAULT_PRESET = "demo"


@dataclass(frozen=True)
class LanguageModelSettings:
    """Everything a language-model run is configured by."""

    preset: str  # the preset the settings started from
    model: dict[str, Any]  # "architecture" and that architecture's fields, except vocab_size (from the data)
    training: TrainConfig
    data: DataConfig
    origin: str  # where the settings came from, in words, for the log

    def sections(self) -> dict[str, Any]:
        """The ``preset``, ``model``, ``training`` and ``data`` entries of ``config.json``."""
        return {"preset": self.preset, "model": self.model, "training": dataclasses.asdict(self.training),
                "data": dataclasses.asdict(self.data)}  # fmt: skip


def model_fields_for(preset: str) -> type:
    """The config dataclass the model section of ``preset`` belongs to."""
    return MODEL_CONFIGS[get_preset(preset).architecture]


def new_settings(preset: str | None = None, corpus: str | Path | None = None,
                 overrides: Overrides | None = None) -> LanguageModelSettings:  # fmt: skip
    """A new run's settings: the preset (``demo`` when None) with ``corpus`` and the overrides applied.

    Raises:
        SeqlabError: an unknown preset, section or field, or a field of another architecture.
    """
    overrides = checked_overrides(overrides, SECTIONS)
    name = preset or DEFAULT_PRESET
    chosen = get_preset(name)
    check_model_fields(overrides["model"], MODEL_CONFIGS[chosen.architecture])
    data = overrides["data"] if corpus is None else {**overrides["data"], "corpus": absolute(corpus)}
    origin = f"preset {name!r}" + ("" if preset else " (the default, as no preset was named)")
    return LanguageModelSettings(
        preset=name,
        model={"architecture": chosen.architecture, **chosen.model, **overrides["model"]},
        training=replace_fields(chosen.training, overrides["training"], what="training config"),
        data=replace_fields(chosen.data, data, what="data config"),
        origin=origin + overridden(overrides),
    )


def resumed_settings(out: Path, overrides: Overrides | None = None, preset: str | None = None,
                     corpus: str | Path | None = None) -> LanguageModelSettings:  # fmt: skip
    """The settings of the run saved in ``out``, with the resumable overrides applied.

    Raises:
        SeqlabError: ``out`` holds no complete checkpoint, or an override changes a setting
            the run cannot change (:data:`RESUMABLE_SETTINGS` only may).
    """
    overrides = checked_overrides(overrides, SECTIONS)
    if corpus is not None:
        overrides["data"]["corpus"] = absolute(corpus)
    saved = read_config(require_checkpoint(out, for_resume=True))
    for section in SECTIONS:
        if not isinstance(saved.get(section), dict):
            raise SeqlabError(f"{out / CONFIG_FILE}: no {section!r} section")
    if preset is not None and preset != saved.get("preset"):
        raise SeqlabError(f"--resume: {out} was trained with preset {saved.get('preset')!r}, not {preset!r}")
    for section, fields in overrides.items():
        check_unchanged(section, fields, saved[section], out)
    source = str(out / CONFIG_FILE)
    training = from_dict(TrainConfig, saved["training"], source=source)
    return LanguageModelSettings(
        preset=saved.get("preset", DEFAULT_PRESET),
        model=_without_vocab_size(saved["model"]),
        training=replace_fields(training, overrides["training"], what="training config"),
        data=replace_fields(from_dict(DataConfig, saved["data"], source=source), overrides["data"], what="data config"),
        origin=f"{source}, the run being resumed" + overridden(overrides),
    )


def finetuning_settings(origin: Path, overrides: Overrides | None = None,
                        preset: str | None = None) -> LanguageModelSettings:  # fmt: skip
    """The settings of the run in ``origin``, switched to averaged SGD that stops when validation stalls.

    Merity et al. (2017, section 3, and their ``finetune.py``): the fine-tuning stage restarts
    from the best weights with ASGD averaging from the first step, and ends when the
    non-monotone criterion fires (patience = ``nonmono``).
    """
    overrides = checked_overrides(overrides, SECTIONS)
    saved = read_config(require_checkpoint(origin))
    if overrides["model"]:
        raise SeqlabError("--finetune-from keeps the model of the run it starts from; drop the model flags")
    if preset is not None and preset != saved.get("preset"):
        raise SeqlabError(f"--finetune-from: {origin} was trained with preset {saved.get('preset')!r}")
    source = str(origin / CONFIG_FILE)
    training = from_dict(TrainConfig, saved.get("training"), source=source)
    training = dataclasses.replace(training, optimizer="asgd", patience=training.patience or training.nonmono)
    data = from_dict(DataConfig, saved.get("data"), source=source)
    return LanguageModelSettings(
        preset=saved.get("preset", DEFAULT_PRESET),
        model=_without_vocab_size(saved["model"]),
        training=replace_fields(training, overrides["training"], what="training config"),
        data=replace_fields(data, overrides["data"], what="data config"),
        origin=f"{source}, switched to ASGD with patience {training.patience} for fine-tuning" + overridden(overrides),
    )


def _without_vocab_size(section: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in section.items() if key != "vocab_size"}


def preset_descriptions() -> str:
    """``name: description`` of every preset, for help texts."""
    return "; ".join(f"{name}: {preset.description}" for name, preset in PRESETS.items())
