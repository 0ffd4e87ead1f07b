"""Loading a trained trigger detector back from its run's directory.

``config.json`` holds the ``model`` section (:class:`~seqlab.models.trigger_configs.TriggerConfig`)
and the ``data`` section (the trigger, how clips were made, the features, the firing rule); the
weights hold the model's fixed input normalisation with them.
"""

from __future__ import annotations

from pathlib import Path

import torch

from seqlab.configs import from_dict
from seqlab.errors import SeqlabError
from seqlab.models.trigger_configs import TriggerConfig
from seqlab.models.trigger_detector import TriggerDetector
from seqlab.tasks.trigger.config import DataConfig
from seqlab.training.checkpoint import CONFIG_FILE, load_weights, read_config


def load_detector(directory: str | Path, *, device: str | torch.device = "cpu",
                  which: str = "best") -> tuple[TriggerDetector, DataConfig]:  # fmt: skip
    """The detector (eval mode, on ``device``) and the run's data settings.

    Raises:
        SeqlabError: not a trigger checkpoint, or a file missing or corrupt.
    """
    saved = read_config(directory)
    source = str(Path(directory) / CONFIG_FILE)
    if saved.get("task") != "trigger":
        raise SeqlabError(f"{directory}: a checkpoint of the {saved.get('task', 'lm')!r} task, not a trigger detector")
    model = TriggerDetector(from_dict(TriggerConfig, saved.get("model") or {}, source=source))
    data = from_dict(DataConfig, saved.get("data") or {}, source=source)
    load_weights(model, directory, device, which=which)
    return model.eval(), data
