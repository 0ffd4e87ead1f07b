"""Language modelling as a task of the engine: BPTT windows over parallel token streams.

A corpus is one long token stream cut into ``batch_size`` parallel streams
(:func:`~seqlab.data.batching.batchify`); a training batch is the next window of rows, its
targets the same rows shifted by one, and the model's state is carried from each window to
the next, as truncated back-propagation through time wants. The position within an epoch is
the row the next window starts at.

With several processes, each trains a contiguous block of the streams and carries its own
streams' state (see :mod:`seqlab.training.distributed`); every block has the same number of
streams, so every process's windows hold the same number of tokens.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from seqlab.data.batching import window_at
from seqlab.tasks.lm.config import DataConfig
from seqlab.tasks.lm.data import LanguageModelData, token_streams
from seqlab.tasks.lm.evaluation import language_model_scores, stream_statistics, summary
from seqlab.training.distributed import SINGLE_PROCESS, ProcessGroup, gather_carry, own_carry, own_streams
from seqlab.training.task import Scores, Statistics, StepLoss, Task, TrainBatch

# AWD-LSTM's variable BPTT: a window is bptt long on average, half of it 5% of the time,
# with a normal spread of this many tokens, and never shorter than the minimum.
VARIABLE_BPTT_HALF_PROBABILITY = 0.05
VARIABLE_BPTT_SPREAD = 5.0
VARIABLE_BPTT_MIN = 5


def window_length(config: DataConfig) -> int:
    """The length of the next training window: ``bptt``, or AWD-LSTM's random length.

    With ``variable_bptt`` the length is drawn from Python's ``random`` (saved in
    checkpoints, so a resumed run draws the same lengths): ``bptt`` (or ``bptt / 2`` with
    probability 0.05) plus normal noise of standard deviation 5, at least 5 (Merity et al.
    2017, section 4.1).
    """
    if not config.variable_bptt:
        return config.bptt
    base = config.bptt / 2 if random.random() < VARIABLE_BPTT_HALF_PROBABILITY else config.bptt
    return max(VARIABLE_BPTT_MIN, int(random.gauss(base, VARIABLE_BPTT_SPREAD)))


class LanguageModelTask(Task):
    """Next-token prediction on a corpus, with the state carried across windows.

    The model is called as ``model(inputs, state, targets)`` and returns a
    :class:`~seqlab.models.output.LanguageModelOutput` (``loss`` to minimise, with any
    penalties; ``cross_entropy`` to report; ``state`` to carry).

    Args:
        data: the encoded corpus.
        config: the batching settings.
        device: where the streams are put (the model's device).
        group: this process's place in a distributed run; it takes its block of streams.

    Shape:
        - training streams: ``(T, B_r)`` with ``B_r = batch_size / world_size``
        - a batch: inputs and targets ``(L, B_r)``
    """

    equal_shares = True
    headline = "perplexity"

    def __init__(self, data: LanguageModelData, config: DataConfig, device: torch.device,
                 group: ProcessGroup = SINGLE_PROCESS):  # fmt: skip
        self.config, self.group, self.unit = config, group, data.vocab.level
        source = data.source
        self.streams = {
            "train": token_streams(data.train, config.batch_size, device, part=f"{source}: the training text"),
            "valid": token_streams(data.valid, config.held_out_batch_size, device, part=f"{source}: the held-out text"),
        }
        if data.test is not None:
            self.streams["test"] = token_streams(data.test, config.held_out_batch_size, device,
                                                 part=f"{source}: the test text")  # fmt: skip
        self.streams = {split: own_streams(streams, group) for split, streams in self.streams.items()}
        self.rows = self.streams["train"].size(0) - 1  # the last row is a target only
        self._all_streams = config.batch_size

    def train_batches(self, epoch: int, position: int) -> Iterator[TrainBatch]:
        """The windows from row ``position`` to the end of the streams; the same in every epoch."""
        streams = self.streams["train"]
        while position < self.rows:
            length = window_length(self.config)
            inputs, targets = window_at(streams, position, length)  # (L, B_r)
            position += inputs.size(0)
            yield TrainBatch((inputs, targets), end=position, last=position == self.rows, size=inputs.numel(),
                             lr_scale=length / self.config.bptt)  # fmt: skip

    def progress(self, position: int) -> tuple[int, int]:
        return position * self._all_streams, self.rows * self._all_streams

    def steps_per_epoch(self) -> int:
        return math.ceil(self.rows / self.config.bptt)

    def loss(self, model: nn.Module, batch: Any, carry: Any) -> StepLoss:
        inputs, targets = batch
        output = model(inputs, carry, targets)
        return StepLoss(output.loss, output.cross_entropy, targets.numel(), output.state)

    def evaluate(self, model: nn.Module, split: str) -> Statistics:
        return stream_statistics(model, self.streams[split], self.config.bptt)

    def scores(self, statistics: Statistics) -> Scores:
        return language_model_scores(statistics, self.unit)

    def summary(self, scores: Scores) -> str:
        return summary(scores, self.unit)

    def describe_position(self, position: int) -> str:
        return f"training row {position}"

    def gather_carry(self, carry: Any) -> Any:
        return gather_carry(carry, self.group)

    def own_carry(self, carry: Any) -> Any:
        return own_carry(carry, self.group)
