"""Loading a trained recogniser back from its run's directory.

``config.json`` holds the ``model`` section (:class:`~seqlab.models.acoustic_configs.AcousticConfig`)
and the ``data`` section (how utterances were made and which features the model reads).
"""

from __future__ import annotations

from pathlib import Path

import torch

from seqlab.models.acoustic_configs import AcousticConfig
from seqlab.models.acoustic_model import AcousticModel
from seqlab.tasks.saved_sections import model_and_data
from seqlab.tasks.speech.config import DataConfig
from seqlab.training.checkpoint import load_weights


def load_recogniser(directory: str | Path, *, device: str | torch.device = "cpu",
                    which: str = "best") -> tuple[AcousticModel, DataConfig]:  # fmt: skip
    """The acoustic model (eval mode, on ``device``) and the run's data settings.

    Raises:
        SeqlabError: not a speech checkpoint, or a file missing or corrupt.
    """
    config, data = model_and_data(directory, "speech", "a speech recogniser", AcousticConfig, DataConfig)
    model = AcousticModel(config)
    load_weights(model, directory, device, which=which)
    return model.eval(), data
