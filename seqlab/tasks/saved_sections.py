"""A task's checkpoint read back: its ``config.json`` checked to be that task's, and its sections as configs.

Every task's loader (``load_classifier``, ``load_tagger``, ``load_recogniser``, ``load_detector``)
starts the same way: a checkpoint of another task is refused with one line naming both, and the
``model`` and ``data`` sections become their dataclasses with errors that name ``config.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from seqlab.configs import from_dict
from seqlab.errors import SeqlabError
from seqlab.training.checkpoint import CONFIG_FILE, read_config

ModelConfig = TypeVar("ModelConfig")
DataSettings = TypeVar("DataSettings")


def task_config(directory: str | Path, task: str, what: str) -> dict[str, Any]:
    """The checkpoint's ``config.json`` as a dict.

    Raises:
        SeqlabError: the checkpoint is missing, corrupt, or of another task than ``task`` (``what``
            names this task's model in the message: "a tagger").
    """
    saved = read_config(directory)
    if saved.get("task", "lm") != task:
        raise SeqlabError(f"{directory}: a checkpoint of the {saved.get('task', 'lm')!r} task, not {what}")
    return saved


def model_and_data(directory: str | Path, task: str, what: str, model_class: type[ModelConfig],
                   data_class: type[DataSettings]) -> tuple[ModelConfig, DataSettings]:  # fmt: skip
    """The ``model`` and ``data`` sections of a ``task`` checkpoint, as ``model_class`` and ``data_class``."""
    saved = task_config(directory, task, what)
    source = str(Path(directory) / CONFIG_FILE)
    return (from_dict(model_class, saved.get("model") or {}, source=source),
            from_dict(data_class, saved.get("data") or {}, source=source))  # fmt: skip
