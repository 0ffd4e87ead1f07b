"""Training a CTC recogniser of spoken digits: the whole run, from settings to report, callable from Python.

``seqlab speech train`` parses its flags and calls :func:`train`; a Python program calls it with the
same settings and gets the same files::

    from seqlab.tasks import speech
    report = speech.train("runs/digits", preset="digits-connected")
    print(report.held_out)  # {'loss': ..., 'wer': ..., 'wer_recordings': ..., 'wer_speaker': ..., ...}

Under ``torchrun`` every process calls it; rank 0 alone writes and reports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import torch

from seqlab.errors import SeqlabError
from seqlab.models.acoustic_configs import AcousticConfig
from seqlab.models.acoustic_model import AcousticModel
from seqlab.tasks.run_settings import Overrides
from seqlab.tasks.sentence_runs import PreparedRun, RunReport, Say, SentenceTaskSpec, train_sentence_task
from seqlab.tasks.speech.config import DataConfig
from seqlab.tasks.speech.data import BLANK, SYMBOLS, prepare_speech_data
from seqlab.tasks.speech.presets import DEFAULT_PRESET, PRESETS
from seqlab.tasks.speech.task import SpeechTask
from seqlab.tasks.task_settings import RunSettings
from seqlab.training.distributed import ProcessGroup

SPEC = SentenceTaskSpec(
    name="speech",
    presets=PRESETS,
    default_preset=DEFAULT_PRESET,
    model_class=AcousticConfig,
    data_class=DataConfig,
    derived=("input_size", "num_symbols", "blank"),
    uses="transcribe",
)


def train(out: str | Path, *, preset: str | None = None, corpus: str | Path | None = None,
          overrides: Overrides | None = None, resume: bool = False, if_exists: str = "error", progress: bool = True,
          log: Callable[[str], None] = print) -> RunReport:  # fmt: skip
    """Train a recogniser, writing checkpoints, ``metrics.jsonl`` and ``curves.png`` to ``out``.

    Args:
        out: the checkpoint directory.
        preset: a name of :data:`~seqlab.tasks.speech.presets.PRESETS`; ``digits-isolated`` when None.
        corpus: a folder of FSDD recordings (or its name under ``$SEQLAB_DATA``); None: the preset's.
        overrides: settings per section, e.g. ``{"data": {"left_out_speaker": "theo"}}``.
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
    """The utterances, the acoustic model and the task."""
    config: DataConfig = settings.data
    data = prepare_speech_data(config)
    fields = {**settings.model, "input_size": config.feature_size, "num_symbols": len(SYMBOLS), "blank": BLANK}
    try:
        model = AcousticModel(AcousticConfig(**fields))
    except TypeError as error:
        raise SeqlabError(f"model settings: {error}") from None
    parameters = sum(parameter.numel() for parameter in model.parameters())
    return PreparedRun(
        task=SpeechTask(data, config, device, seed=settings.training.seed, group=group),
        model=model.to(device),
        model_section=dataclasses.asdict(model.config),
        artefacts={},
        fingerprint=data.fingerprint,
        origin=data.origin,
        lines=[f"  {data.describe()}", f"model: {_describe(model.config)}, {parameters:,} parameters, on {device}"],
    )


def _describe(config: AcousticConfig) -> str:
    front = (f"{config.conv_layers} convolutions of {config.conv_channels} channels (time / {config.subsample}), "
             if config.conv_channels else "")  # fmt: skip
    direction = "bidirectional " if config.bidirectional else ""
    return (f"{front}{direction}{config.cell.upper()} {config.hidden_size} x {config.num_layers} layer(s), "
            f"CTC over {config.num_symbols} symbols")  # fmt: skip
