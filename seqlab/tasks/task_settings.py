"""Presets and run settings shared by the tasks on labelled sentences (classification, tagging).

Such a run has three sections, as ``config.json`` holds them: ``model`` (the model config's
fields but those the data decides, such as the vocabulary size), ``training``
(:class:`~seqlab.training.config.TrainConfig`) and ``data`` (the task's data config). A new run
starts from a :class:`~seqlab.tasks.task_preset.TaskPreset` with overrides per section; a resumed run takes its
checkpoint's settings, where only :data:`~seqlab.tasks.run_settings.RESUMABLE_SETTINGS` may change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqlab.configs import from_dict, replace_fields
from seqlab.errors import SeqlabError
from seqlab.tasks.run_settings import Overrides, check_model_fields, check_unchanged, checked_overrides, overridden
from seqlab.tasks.task_preset import TaskPreset
from seqlab.training.checkpoint import CONFIG_FILE, read_config, require_checkpoint
from seqlab.training.config import TrainConfig

SECTIONS = ("model", "training", "data")


@dataclass(frozen=True)
class RunSettings:
    """Everything a run of a sentence task is configured by."""

    task: str  # "classify" or "tag", as config.json names it
    preset: str
    model: dict[str, Any]  # the model config's fields, but those set from the data
    training: TrainConfig
    data: Any  # the task's data config dataclass
    origin: str  # where the settings came from, in words, for the log

    def sections(self) -> dict[str, Any]:
        """The ``task``, ``preset`` and the three sections of ``config.json``."""
        return {"task": self.task, "preset": self.preset, "model": self.model,
                "training": dataclasses.asdict(self.training), "data": dataclasses.asdict(self.data)}  # fmt: skip


def new_run_settings(task: str, presets: Mapping[str, TaskPreset], name: str, model_class: type, *,
                     overrides: Overrides | None = None, data_overrides: dict[str, Any] | None = None,
                     default: bool = False) -> RunSettings:  # fmt: skip
    """A new run: preset ``name`` with the overrides applied (``data_overrides`` after the data section's).

    Raises:
        SeqlabError: an unknown preset, section or field, or a bad value.
    """
    overrides = checked_overrides(overrides, SECTIONS)
    if name not in presets:
        raise SeqlabError(f"unknown preset {name!r}; choose from {', '.join(sorted(presets))}")
    chosen = presets[name]
    check_model_fields(overrides["model"], model_class)
    origin = f"preset {name!r}" + (" (the default, as no preset was named)" if default else "")
    return RunSettings(
        task=task,
        preset=name,
        model={**chosen.model, **overrides["model"]},
        training=replace_fields(chosen.training, overrides["training"], what="training config"),
        data=replace_fields(chosen.data, {**overrides["data"], **(data_overrides or {})}, what="data config"),
        origin=origin + overridden(overrides),
    )


def resumed_run_settings(task: str, out: Path, data_class: type, derived: tuple[str, ...], *,
                         overrides: Overrides | None = None) -> RunSettings:  # fmt: skip
    """The settings of the run saved in ``out``; overrides may only repeat them or be resumable.

    Args:
        derived: the model fields the data sets (left out of the returned model section).

    Raises:
        SeqlabError: no complete checkpoint, a run of another task, or a change a resumed run cannot make.
    """
    overrides = checked_overrides(overrides, SECTIONS)
    saved = read_config(require_checkpoint(out, for_resume=True))
    source = str(out / CONFIG_FILE)
    if saved.get("task") != task:
        raise SeqlabError(f"--resume: {out} holds a run of the {saved.get('task', 'lm')!r} task, not {task}")
    for section in SECTIONS:
        if not isinstance(saved.get(section), dict):
            raise SeqlabError(f"{source}: no {section!r} section")
        check_unchanged(section, overrides[section], saved[section], out)
    training = from_dict(TrainConfig, saved["training"], source=source)
    return RunSettings(
        task=task,
        preset=saved.get("preset", ""),
        model={key: value for key, value in saved["model"].items() if key not in derived},
        training=replace_fields(training, overrides["training"], what="training config"),
        data=from_dict(data_class, saved["data"], source=source),
        origin=f"{source}, the run being resumed" + overridden(overrides),
    )
