"""Training a trigger-word detector: the whole run, from settings to report, callable from Python.

``seqlab trigger train`` parses its flags and calls :func:`train`; a Python program calls it with the
same settings and gets the same files::

    from seqlab.tasks import trigger
    report = trigger.train("runs/seven", overrides={"data": {"trigger": 7}})
    print(report.held_out)  # {'loss': ..., 'f1': ..., 'false_alarms_per_hour': ..., 'f1_speaker': ..., ...}

Under ``torchrun`` every process calls it; rank 0 alone writes and reports. A new run measures the
model's fixed input normalisation (each band's mean and deviation) on its first training clips
before the first step; a resumed run takes it from the checkpoint's weights.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import torch

from seqlab.errors import SeqlabError
from seqlab.models.trigger_configs import TriggerConfig
from seqlab.models.trigger_detector import TriggerDetector
from seqlab.tasks.run_settings import Overrides
from seqlab.tasks.sentence_runs import PreparedRun, RunReport, Say, SentenceTaskSpec, train_sentence_task
from seqlab.tasks.task_settings import RunSettings
from seqlab.tasks.trigger.config import DataConfig
from seqlab.tasks.trigger.data import prepare_trigger_data
from seqlab.tasks.trigger.presets import DEFAULT_PRESET, PRESETS
from seqlab.tasks.trigger.task import TriggerTask
from seqlab.training.distributed import ProcessGroup

SPEC = SentenceTaskSpec(
    name="trigger",
    presets=PRESETS,
    default_preset=DEFAULT_PRESET,
    model_class=TriggerConfig,
    data_class=DataConfig,
    derived=("input_size",),
    uses="detect",
)


def train(out: str | Path, *, preset: str | None = None, corpus: str | Path | None = None,
          overrides: Overrides | None = None, resume: bool = False, if_exists: str = "error", progress: bool = True,
          log: Callable[[str], None] = print) -> RunReport:  # fmt: skip
    """Train a trigger detector, writing checkpoints, ``metrics.jsonl`` and ``curves.png`` to ``out``.

    Args:
        out: the checkpoint directory.
        preset: a name of :data:`~seqlab.tasks.trigger.presets.PRESETS`; ``digits-trigger`` when None.
        corpus: a folder of FSDD recordings (or its name under ``$SEQLAB_DATA``); None: the preset's.
        overrides: settings per section, e.g. ``{"data": {"trigger": 3}}``.
        resume: continue the run in ``out``; if_exists: ``"error"`` or ``"resume"`` when ``out`` holds a run.
        progress: show each epoch's progress; log: where every line goes (rank 0 only).

    Raises:
        SeqlabError: bad settings or data (one line naming the problem).
        TrainingDiverged: the loss became NaN or infinite; the last checkpoint is kept.
    """
    return train_sentence_task(SPEC, _prepare, out, preset=preset, corpus=corpus, overrides=overrides, resume=resume,
                               if_exists=if_exists, progress=progress, log=log)  # fmt: skip


def _prepare(settings: RunSettings, out: Path, resume: bool, group: ProcessGroup, device: torch.device,
             say: Say) -> PreparedRun:  # fmt: skip
    """The clips, the detector (with its input normalisation) and the task."""
    config: DataConfig = settings.data
    data = prepare_trigger_data(config)
    try:
        model = TriggerDetector(TriggerConfig(**{**settings.model, "input_size": config.n_mels}))
    except TypeError as error:
        raise SeqlabError(f"model settings: {error}") from None
    task = TriggerTask(data, config, device, stride=model.config.conv_stride, seed=settings.training.seed, group=group)
    if not resume:  # a resumed run loads the statistics with the weights
        model.set_normalisation(*task.band_statistics(config.normalisation_clips))
    parameters = sum(parameter.numel() for parameter in model.parameters())
    return PreparedRun(
        task=task,
        model=model.to(device),
        model_section=dataclasses.asdict(model.config),
        artefacts={},
        fingerprint=data.fingerprint,
        origin=data.origin,
        lines=[
            f"  {data.describe()}",
            f"model: {_describe(model.config, task)}, {parameters:,} parameters, on {device}",
        ],
    )


def _describe(config: TriggerConfig, task: TriggerTask) -> str:
    return (f"causal convolution of {config.conv_channels} filters (kernel {config.conv_kernel}, stride "
            f"{config.conv_stride}: a step per {1000 * task.step_seconds:g} ms), GRU {config.hidden_size} x "
            f"{config.num_layers} layer(s), a sigmoid per step")  # fmt: skip
