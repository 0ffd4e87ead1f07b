"""Named configurations of trigger-word runs: ``seqlab trigger train --preset NAME``.

``digits-trigger`` is the material's detector (Ng, "Trigger word detection"): a convolution of 196
filters, kernel 15 and stride 4 over the frames, batch normalisation, ReLU and dropout, two GRU
layers of 128 units each followed by dropout and batch normalisation, and a sigmoid per output
step; here causal and unidirectional so that it streams, over 40 log-mel bands (25 ms windows
every 10 ms, one output step per 40 ms) of 10 s clips synthesised from spoken digits and coloured
noise, the trigger "seven" among the other nine digits. One speaker of the five is left out of
training and scored apart.
"""

from __future__ import annotations

from seqlab.tasks.task_preset import TaskPreset
from seqlab.tasks.trigger.config import DataConfig
from seqlab.training.config import TrainConfig

DEFAULT_PRESET = "digits-trigger"
_MODEL = {"conv_channels": 196, "conv_kernel": 15, "conv_stride": 4, "hidden_size": 128, "num_layers": 2,
          "dropout": 0.2}  # fmt: skip

PRESETS = {
    "digits-trigger": TaskPreset(
        description="FSDD: 10 s clips of noise with a trigger digit among distractors, the material's Conv1D + GRU "
        "detector made causal",
        reference="trigger word: goal F1 >= 0.95 at <= 1 false alarm per hour on clips of unseen recordings",
        model=_MODEL,
        training=TrainConfig(
            optimizer="adamw",
            lr=2e-3,
            weight_decay=1e-2,
            grad_clip=5.0,
            warmup_steps=100,
            lr_schedule="cosine",
            epochs=10,
            eval_every=100_000,
            max_minutes=30.0,
        ),  # fmt: skip
        data=DataConfig(),
    ),
}
