"""Loading a trained trigger detector back from its run's directory.

``config.json`` holds the ``model`` section (:class:`~seqlab.models.trigger_configs.TriggerConfig`)
and the ``data`` section (the trigger, how clips were made, the features, the firing rule); the
weights hold the model's fixed input normalisation with them.
"""

from __future__ import annotations

from pathlib import Path

import torch

from seqlab.models.trigger_configs import TriggerConfig
from seqlab.models.trigger_detector import TriggerDetector
from seqlab.tasks.saved_sections import model_and_data
from seqlab.tasks.trigger.config import DataConfig
from seqlab.training.checkpoint import load_weights


def load_detector(directory: str | Path, *, device: str | torch.device = "cpu",
                  which: str = "best") -> tuple[TriggerDetector, DataConfig]:  # fmt: skip
    """The detector (eval mode, on ``device``) and the run's data settings.

    Raises:
        SeqlabError: not a trigger checkpoint, or a file missing or corrupt.
    """
    config, data = model_and_data(directory, "trigger", "a trigger detector", TriggerConfig, DataConfig)
    model = TriggerDetector(config)
    load_weights(model, directory, device, which=which)
    return model.eval(), data
