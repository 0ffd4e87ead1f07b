"""Training: run configuration, presets, the loop, evaluation, checkpoints.

The loop is plain functions that know a model only by its call convention,
``model(inputs, state, targets) -> LanguageModelOutput``.
"""

from seqlab.training.averaging import ParameterAverage
from seqlab.training.checkpoint import (
    load_weights,
    read_config,
    read_vocab,
    require_checkpoint,
    restore_training_state,
    save_checkpoint,
)
from seqlab.training.config import DataConfig, TrainConfig
from seqlab.training.evaluate import Evaluation, evaluate
from seqlab.training.loop import TrainingDiverged, TrainingRun, TrainResult, train, train_step
from seqlab.training.neural_cache import CacheConfig, evaluate_with_cache
from seqlab.training.optim import learning_rate, make_optimizer
from seqlab.training.presets import PRESETS, Preset, get_preset
from seqlab.training.rng import seed_everything
from seqlab.training.state import TrainingState

__all__ = [
    "PRESETS",
    "CacheConfig",
    "DataConfig",
    "Evaluation",
    "ParameterAverage",
    "Preset",
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "TrainingRun",
    "TrainingState",
    "evaluate",
    "evaluate_with_cache",
    "get_preset",
    "learning_rate",
    "load_weights",
    "make_optimizer",
    "read_config",
    "read_vocab",
    "require_checkpoint",
    "restore_training_state",
    "save_checkpoint",
    "seed_everything",
    "train",
    "train_step",
]
