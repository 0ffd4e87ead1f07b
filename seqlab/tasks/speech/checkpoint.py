"""Loading a trained recogniser back from its run's directory.

``config.json`` holds the ``model`` section (:class:`~seqlab.models.acoustic_configs.AcousticConfig`)
and the ``data`` section (how utterances were made and which features the model reads).
"""

from __future__ import annotations

from pathlib import Path

import torch

from seqlab.configs import from_dict
from seqlab.errors import SeqlabError
from seqlab.models.acoustic_configs import AcousticConfig
from seqlab.models.acoustic_model import AcousticModel
from seqlab.tasks.speech.config import DataConfig
from seqlab.training.checkpoint import CONFIG_FILE, load_weights, read_config


def load_recogniser(directory: str | Path, *, device: str | torch.device = "cpu",
                    which: str = "best") -> tuple[AcousticModel, DataConfig]:  # fmt: skip
    """The acoustic model (eval mode, on ``device``) and the run's data settings.

    Raises:
        SeqlabError: not a speech checkpoint, or a file missing or corrupt.
    """
    saved = read_config(directory)
    source = str(Path(directory) / CONFIG_FILE)
    if saved.get("task") != "speech":
        raise SeqlabError(f"{directory}: a checkpoint of the {saved.get('task', 'lm')!r} task, not a speech recogniser")
    model = AcousticModel(from_dict(AcousticConfig, saved.get("model") or {}, source=source))
    data = from_dict(DataConfig, saved.get("data") or {}, source=source)
    load_weights(model, directory, device, which=which)
    return model.eval(), data
