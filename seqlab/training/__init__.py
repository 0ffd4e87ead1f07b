"""The training engine: one run lifecycle for every task.

A task (:class:`~seqlab.training.task.Task`) says how to make batches, what the loss of one
batch is, and how to evaluate; the engine owns the rest once: the optimiser step with
clipping and a divergence guard decided by all processes (:mod:`~seqlab.training.step`),
schedules counted in steps (:mod:`~seqlab.training.optim`), weight averaging
(:mod:`~seqlab.training.averaging`), the loop and its evaluation cadence
(:mod:`~seqlab.training.loop`, :mod:`~seqlab.training.evaluation`), atomic checkpoints with
exact resume (:mod:`~seqlab.training.checkpoint`), metrics files, progress, limits, and data
parallelism (:mod:`~seqlab.training.distributed`); :func:`~seqlab.training.fit.fit` puts a
run together. Names are imported when first used, so that the torch-free settings
(:mod:`seqlab.training.config`) can be read without importing torch.
"""

from __future__ import annotations

from seqlab.lazy_exports import lazy_exports

_EXPORTS = {
    "EvaluationRecorder": "seqlab.training.evaluation",
    "FitResult": "seqlab.training.fit",
    "ParameterAverage": "seqlab.training.averaging",
    "ProcessGroup": "seqlab.training.distributed",
    "Selection": "seqlab.training.task",
    "StartFrom": "seqlab.training.fit",
    "StepLoss": "seqlab.training.task",
    "Task": "seqlab.training.task",
    "TrainBatch": "seqlab.training.task",
    "TrainConfig": "seqlab.training.config",
    "TrainResult": "seqlab.training.loop",
    "TrainingDiverged": "seqlab.training.step",
    "TrainingRun": "seqlab.training.loop",
    "TrainingState": "seqlab.training.state",
    "evaluate_split": "seqlab.training.evaluation",
    "fit": "seqlab.training.fit",
    "learning_rate": "seqlab.training.optim",
    "load_weights": "seqlab.training.checkpoint",
    "make_optimizer": "seqlab.training.optim",
    "read_config": "seqlab.training.checkpoint",
    "require_checkpoint": "seqlab.training.checkpoint",
    "restore_training_state": "seqlab.training.checkpoint",
    "save_checkpoint": "seqlab.training.checkpoint",
    "seed_everything": "seqlab.training.rng",
    "train": "seqlab.training.loop",
    "train_step": "seqlab.training.step",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
