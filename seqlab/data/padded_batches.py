"""Batches of independent variable-length examples: length-bucketed plans, padding, packing, masks.

Language models read one stream cut into BPTT windows (``batching.py``); translation, classification,
tagging and speech read separate examples of different lengths instead. Batching them has two halves:

- **planning** (:class:`BucketedBatches`): which example indices go together, batch by batch. Examples
  of similar length share a batch so little of it is padding; a plan is a pure function of
  ``(seed, epoch)``, so every data-parallel process computes the same one without talking to the
  others, and a resumed run replays it;
- **tensors** (:func:`pad_sequences`, :func:`padding_mask`, :func:`pack`, :func:`unpack`,
  :func:`masked_token_mean`): the examples of one batch as a padded tensor and its lengths, the mask of
  real positions, the ``PackedSequence`` a recurrent layer reads, and averages that count real tokens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence, pad_sequence

from seqlab.errors import SeqlabError

Batch = list[int]  # example indices


class BucketedBatches:
    """Plans the batches of one epoch: lists of example indices, deterministic from ``(seed, epoch)``.

    A batch of ``n`` examples costs ``n * max(length)`` padded tokens. With ``shuffle=True``
    (training) an epoch's plan is made in four steps, all with one generator seeded by
    ``(seed, epoch)``::

        shuffle all examples        7 2 9 0 4 8 1 5 3 6 ...
        cut into buckets            [7 2 9 0 4 8] [1 5 3 6 ...]      bucket_batches batches' worth each
        sort each bucket by length  [2 0 7 8 4 9] [5 1 6 3 ...]      neighbours have similar lengths
        cut batches, shuffle them   [5 1] [8 4 9] [2 0 7] [6 3] ...  no batch crosses a bucket

    so batches waste little padding yet differ from epoch to epoch. With ``shuffle=False``
    (evaluation) all examples are sorted by length (one bucket) and the batches come shortest
    first, the same plan for every epoch.

    Args:
        lengths: the length (tokens, frames) of each example, non-negative integers.
        batch_size: at most this many examples per batch.
        max_tokens: at most this many padded tokens (``n * max(length)``) per batch. An example
            longer than ``max_tokens`` makes a batch of its own: it is neither dropped nor an error.
            At least one of ``batch_size`` and ``max_tokens`` must be given; with both, both hold.
        shuffle: ``True`` for training plans, ``False`` for the fixed evaluation plan.
        seed: with the epoch number, seeds the generator of a shuffled plan (non-negative).
        bucket_batches: a bucket holds about this many batches' worth of examples:
            ``bucket_batches * batch_size``, or ``bucket_batches * max_tokens / mean length``
            with a token budget (the smaller when both are given). Larger buckets waste less
            padding; smaller ones keep more randomness in which examples share a batch.

    Attributes:
        lengths: the lengths as a list of Python ints; the other arguments under their own names.

    Example:
        >>> lengths = [5, 3, 9, 4, 5, 2, 8]
        >>> BucketedBatches(lengths, max_tokens=12, shuffle=False).epoch(0)  # lengths [2 3 4] [5 5] [8] [9]
        [[5, 1, 3], [0, 4], [6], [2]]
        >>> plan = BucketedBatches(lengths, max_tokens=12, seed=1)
        >>> batches = plan.epoch(0)
        >>> sorted(index for batch in batches for index in batch)  # every example once
        [0, 1, 2, 3, 4, 5, 6]
        >>> all(len(batch) * max(lengths[i] for i in batch) <= 12 for batch in batches)
        True
        >>> plan.epoch(0) == batches  # the same (seed, epoch), the same plan
        True
        >>> [len(plan.for_process(0, rank, world_size=3)) for rank in range(3)]  # 4 batches, 2 rounds
        [2, 2, 2]
    """

    def __init__(
        self,
        lengths: Sequence[int],
        *,
        batch_size: int | None = None,
        max_tokens: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        bucket_batches: int = 50,
    ) -> None:
        self.lengths = _checked_lengths(lengths)  # python ints: the greedy cut loops over them
        if batch_size is None and max_tokens is None:
            raise SeqlabError("give batch_size, max_tokens or both: a batch needs a limit")
        _check_at_least_one("batch_size", batch_size)
        _check_at_least_one("max_tokens", max_tokens)
        _check_at_least_one("bucket_batches", bucket_batches)
        if seed < 0:
            raise SeqlabError(f"seed must be non-negative, got {seed}")
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.bucket_batches = bucket_batches
        self._length_array = np.asarray(self.lengths, dtype=np.int64)

    def epoch(self, epoch: int) -> list[Batch]:
        """The whole epoch's batches, in order; every example exactly once."""
        if epoch < 0:
            raise SeqlabError(f"epoch must be non-negative, got {epoch}")
        if not self.shuffle:
            return self._evaluation_plan()
        generator = np.random.default_rng([self.seed, epoch])
        shuffled = generator.permutation(len(self.lengths))
        size = self._examples_per_bucket()
        batches: list[Batch] = []
        for start in range(0, len(shuffled), size):
            batches += self._cut_batches(self._sorted_by_length(shuffled[start : start + size]))
        return [batches[k] for k in generator.permutation(len(batches))]

    def for_process(self, epoch: int, rank: int, world_size: int) -> list[Batch]:
        """This process's share of a training epoch, the same number of batches in every process.

        Batch ``k`` of :meth:`epoch` goes to rank ``k % world_size``. When the number of batches is
        not a multiple of ``world_size``, the last round is completed with the epoch's first batches
        again (as ``torch.utils.data.DistributedSampler`` repeats examples), because data-parallel
        processes must take the same number of steps. ``world_size=1`` gives ``epoch(epoch)``.
        """
        _check_rank(rank, world_size)
        batches = self.epoch(epoch)
        if not batches:
            return []
        dealt = math.ceil(len(batches) / world_size) * world_size
        return [batches[k % len(batches)] for k in range(rank, dealt, world_size)]

    def evaluation_share(self, rank: int, world_size: int) -> list[Batch]:
        """This process's share of the evaluation plan: over all processes every example exactly once.

        The batches of the fixed, length-sorted plan (the ``shuffle=False`` one, whatever this
        planner's ``shuffle``) are dealt round-robin, so every process gets short and long batches
        alike. Nothing is repeated, so the counts may differ by one between processes (or be zero
        where there are fewer batches than processes): sum the statistics, not the averages.
        """
        _check_rank(rank, world_size)
        return self._evaluation_plan()[rank::world_size]

    def padding_fraction(self, epoch: int) -> float:
        """Padded tokens / all tokens (real and padded) over the batches of ``epoch(epoch)``."""
        padded_total = real_total = 0
        for batch in self.epoch(epoch):
            batch_lengths = [self.lengths[i] for i in batch]
            padded_total += len(batch) * max(batch_lengths)
            real_total += sum(batch_lengths)
        return 0.0 if padded_total == 0 else (padded_total - real_total) / padded_total

    def _evaluation_plan(self) -> list[Batch]:
        return self._cut_batches(self._sorted_by_length(np.arange(len(self.lengths))))

    def _sorted_by_length(self, indices: np.ndarray) -> list[int]:
        # A stable sort keeps the shuffled order among examples of equal length.
        order = np.argsort(self._length_array[indices], kind="stable")
        return indices[order].tolist()

    def _examples_per_bucket(self) -> int:
        per_batch = []
        if self.batch_size is not None:
            per_batch.append(self.batch_size)
        if self.max_tokens is not None:
            mean_length = max(1.0, float(self._length_array.mean()))
            per_batch.append(max(1, int(self.max_tokens / mean_length)))
        return self.bucket_batches * min(per_batch)

    def _cut_batches(self, ordered: list[int]) -> list[Batch]:
        """Greedy cut of ``ordered`` into consecutive batches within both limits."""
        batches: list[Batch] = []
        current: Batch = []
        longest = 0
        for index in ordered:
            length = self.lengths[index]
            if current and not self._fits(len(current) + 1, max(longest, length)):
                batches.append(current)
                current, longest = [], 0
            current.append(index)  # a lone over-long example is taken anyway
            longest = max(longest, length)
        if current:
            batches.append(current)
        return batches

    def _fits(self, count: int, longest: int) -> bool:
        if self.batch_size is not None and count > self.batch_size:
            return False
        return self.max_tokens is None or count * longest <= self.max_tokens


def _checked_lengths(lengths: Sequence[int]) -> list[int]:
    values = np.asarray(lengths)
    if values.ndim != 1 or values.size == 0:
        raise SeqlabError(f"lengths must be a non-empty list of integers, got shape {values.shape}")
    if not np.issubdtype(values.dtype, np.integer):
        raise SeqlabError(f"lengths must be integers, got {values.dtype}")
    if values.min() < 0:
        raise SeqlabError(f"lengths must be non-negative, found {values.min()} at index {values.argmin()}")
    return values.astype(np.int64).tolist()


def _check_at_least_one(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise SeqlabError(f"{name} must be at least 1, got {value}")


def _check_rank(rank: int, world_size: int) -> None:
    if world_size < 1 or not 0 <= rank < world_size:
        raise SeqlabError(f"rank {rank} is not one of world_size={world_size} processes")


def pad_sequences(
    sequences: Sequence[torch.Tensor], *, padding_value: float | int = 0, batch_first: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack examples of different lengths into one padded tensor, with their lengths.

    Shape:
        - sequences: ``B`` tensors ``(L_b, *)``, the same trailing shape ``*``
        - padded: ``(T_max, B, *)``, or ``(B, T_max, *)`` with ``batch_first=True``
        - lengths: ``(B,)`` int64 on the CPU (what ``pack_padded_sequence`` wants)
    """
    if len(sequences) == 0:
        raise SeqlabError("pad_sequences needs at least one sequence")
    trailing = {tuple(s.shape[1:]) for s in sequences}
    if len(trailing) > 1 or any(s.dim() == 0 for s in sequences):
        raise SeqlabError(f"sequences must be (L, *) with the same trailing shape *, got {sorted(trailing)}")
    lengths = torch.tensor([s.size(0) for s in sequences], dtype=torch.int64)
    padded = pad_sequence(list(sequences), batch_first=batch_first, padding_value=padding_value)
    return padded, lengths


def unpad_sequences(padded: torch.Tensor, lengths: torch.Tensor, *, batch_first: bool = False) -> list[torch.Tensor]:
    """The inverse of :func:`pad_sequences`: one ``(L_b, *)`` view per example, padding cut off."""
    by_example = padded if batch_first else padded.transpose(0, 1)  # (B, T, *)
    return [by_example[b, :length] for b, length in enumerate(lengths.tolist())]


def padding_mask(lengths: torch.Tensor, max_length: int | None = None, *, batch_first: bool = False) -> torch.Tensor:
    """Bool mask, ``True`` at real positions and ``False`` at padding.

    Args:
        lengths: the length of each example.
        max_length: the padded length ``T``; the longest length when not given.

    Shape:
        - lengths: ``(B,)``
        - output: ``(T, B)``, or ``(B, T)`` with ``batch_first=True``; on the device of ``lengths``
    """
    longest = int(lengths.max()) if lengths.numel() else 0
    if max_length is None:
        max_length = longest
    elif max_length < longest:
        raise SeqlabError(f"max_length {max_length} is shorter than the longest example ({longest})")
    positions = torch.arange(max_length, device=lengths.device)
    mask = positions[:, None] < lengths[None, :]  # (T, B)
    return mask.t() if batch_first else mask


def pack(padded: torch.Tensor, lengths: torch.Tensor, *, batch_first: bool = False) -> PackedSequence:
    """A padded batch as a ``PackedSequence`` for ``seqlab.nn``'s (and ``torch.nn``'s) RNN/GRU/LSTM.

    The examples need not be sorted by length (``enforce_sorted=False``); every length must be at
    least 1. :func:`unpack` gives the padded tensor back, in the original example order.

    Shape:
        - padded: ``(T, B, *)``, or ``(B, T, *)`` with ``batch_first=True``
        - lengths: ``(B,)``, on any device (moved to the CPU as int64)
    """
    if lengths.numel() and int(lengths.min()) < 1:
        raise SeqlabError("pack needs every length to be at least 1; drop or fill empty examples first")
    return pack_padded_sequence(padded, lengths.to("cpu", torch.int64), batch_first=batch_first, enforce_sorted=False)


def unpack(
    packed: PackedSequence, *, batch_first: bool = False, total_length: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``PackedSequence`` -> ``(padded, lengths)``, padded with zeros, as :func:`pad_sequences` returns.

    Shape:
        - padded: ``(T, B, *)``, or ``(B, T, *)`` with ``batch_first=True``; ``T = total_length``
          when given, else the longest length
        - lengths: ``(B,)`` int64 on the CPU
    """
    return pad_packed_sequence(packed, batch_first=batch_first, total_length=total_length)


def masked_token_mean(values: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, int]:
    """The mean of ``values`` over real positions only, and the number of real positions.

    Padding never counts, not even when it holds ``nan`` or ``inf`` (it is replaced, not
    multiplied by zero), and gets zero gradient. With no real positions the mean is ``0``
    (still attached to the graph) and the count ``0``, so ``mean * count`` sums correctly
    across batches and processes. Reading the count synchronises with the device.

    Shape:
        - values: ``(T, B)`` or ``(B, T)`` (any shape)
        - mask: bool, the shape of ``values``
        - output: a scalar tensor and an ``int``
    """
    if mask.dtype != torch.bool or mask.shape != values.shape:
        raise SeqlabError(
            f"mask must be a bool tensor of the values' shape {tuple(values.shape)}, "
            f"got {mask.dtype} {tuple(mask.shape)}"
        )
    count = int(mask.sum())
    total = values.masked_fill(~mask, 0).sum()
    return total / max(count, 1), count
