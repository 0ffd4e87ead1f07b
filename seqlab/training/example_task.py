"""Tasks on independent variable-length examples: planned padded batches, dealt across processes.

Translation, classification, tagging and speech read separate examples (sentences,
utterances) rather than one stream. Such a task subclasses :class:`ExampleTask` and says how
to turn a list of example indices into padded tensors (:meth:`ExampleTask.collate`), the loss
of a batch, and the statistics of a batch at evaluation; batching, data parallelism and exact
resumption come from here:

- each split has a :class:`~seqlab.data.padded_batches.BucketedBatches` plan: examples of
  similar length share a batch, and a training epoch's plan is a pure function of
  ``(seed, epoch)``, so a resumed run replays it;
- in training, process ``r`` of ``R`` takes batches ``r, r + R, r + 2R, ...`` of the epoch's
  plan (a distributed sampler over batches), every process the same number;
- in evaluation, every example is scored exactly once over all processes, and the statistics
  are summed by the engine;
- the position within an epoch is the number of this process's batches done.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

from torch import nn

from seqlab.data.padded_batches import BucketedBatches
from seqlab.training.distributed import SINGLE_PROCESS, ProcessGroup
from seqlab.training.task import Statistics, Task, TrainBatch


class ExampleTask(Task):
    """A task whose data are independent examples, batched by length.

    Args:
        plans: a plan per split; the "train" plan shuffles (``shuffle=True``), the others do not.
        group: this process's place in a distributed run.

    Attributes:
        statistic_names: the keys :meth:`batch_statistics` returns; a process with no
            evaluation batch (more processes than batches) reports zeros for them.
    """

    unit = "token"
    statistic_names: tuple[str, ...] = ()

    def __init__(self, plans: dict[str, BucketedBatches], group: ProcessGroup = SINGLE_PROCESS):
        self.plans, self.group = plans, group
        self._planned: tuple[int, list[list[int]]] | None = None  # (epoch, this process's batches)

    @abstractmethod
    def collate(self, split: str, indices: Sequence[int]) -> Any:
        """The batch of examples ``indices`` of ``split``: padded tensors on the model's device."""

    @abstractmethod
    def batch_statistics(self, model: nn.Module, data: Any) -> Statistics:
        """The sufficient statistics of one evaluation batch (the model is in eval mode, without gradients)."""

    def train_batches(self, epoch: int, position: int) -> Iterator[TrainBatch]:
        batches = self._share(epoch)
        for index in range(position, len(batches)):
            size = sum(self.plans["train"].lengths[example] for example in batches[index])
            yield TrainBatch(self.collate("train", batches[index]), end=index + 1, last=index + 1 == len(batches),
                             size=size)  # fmt: skip

    def progress(self, position: int) -> tuple[int, int]:
        total = sum(self.plans["train"].lengths)
        return round(total * position / max(1, self.steps_per_epoch())), total

    def steps_per_epoch(self) -> int:
        return len(self._share(0))

    def evaluate(self, model: nn.Module, split: str) -> Statistics:
        totals = dict.fromkeys(self.statistic_names, 0.0)
        for indices in self.plans[split].evaluation_share(self.group.rank, self.group.world_size):
            for name, value in self.batch_statistics(model, self.collate(split, indices)).items():
                totals[name] += value
        return totals

    def _share(self, epoch: int) -> list[list[int]]:
        """This process's training batches of ``epoch``, planned once per epoch."""
        if self._planned is None or self._planned[0] != epoch:
            self._planned = (epoch, self.plans["train"].for_process(epoch, self.group.rank, self.group.world_size))
        return self._planned[1]
