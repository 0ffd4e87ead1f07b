"""Data-parallel training with ``torch.distributed``: each process trains its share of the streams.

Launched with ``torchrun --nproc_per_node N -m seqlab lm train ...`` (one process per GPU, or
several on a CPU with the gloo backend), every process holds the whole model and a contiguous
block of the ``batch_size`` parallel text streams::

    streams  b=0 b=1 b=2 b=3 | b=4 b=5 b=6 b=7      batch_size 8, 2 processes
             └── rank 0 ───┘   └── rank 1 ───┘

Each process carries the recurrent state of its own streams from window to window, so the
state always belongs to the text it was computed on (what ``nn.DataParallel`` gets wrong when
it scatters a carried state). ``DistributedDataParallel`` averages the gradients, which equals
the gradient of the whole batch because every block has the same number of streams. Held-out
text is split the same way and the losses are summed over processes. Checkpoints gather the
carried state of every stream and every process's random-number state, and are written by
rank 0 alone.

Without dropout, R processes therefore train the weights one process would (to float
rounding). With dropout they do not: process r draws the masks of its own streams from its
own generator (seeded ``seed + r``), so the masks differ from those one process would draw for
the same streams; the training is the same in distribution, and a distributed run repeats
exactly given the same number of processes.

Tasks of independent examples share batches instead: process r takes every R-th batch of the
epoch's length-bucketed plan (:mod:`seqlab.training.example_task`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from seqlab.errors import SeqlabError


@dataclass(frozen=True)
class ProcessGroup:
    """Where this process stands in the run: its rank among ``world_size`` processes."""

    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Rank 0 prints, samples and writes checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


SINGLE_PROCESS = ProcessGroup()


def launched_by_torchrun() -> bool:
    """Whether the environment describes a multi-process run (``WORLD_SIZE`` > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def start_process_group(device: torch.device) -> tuple[ProcessGroup, torch.device]:
    """Join the run torchrun started, or stay a single process.

    Returns:
        The process group and this process's device: ``cuda:LOCAL_RANK`` when training on
        CUDA, else ``device``. NCCL serves CUDA, gloo the CPU.
    """
    if not launched_by_torchrun():
        return SINGLE_PROCESS, device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return ProcessGroup(dist.get_rank(), dist.get_world_size()), device


def end_process_group(group: ProcessGroup) -> None:
    """Leave the run together: the barrier keeps a process that is done (every rank but 0, which
    still reports) from tearing its connections down under the others (gloo then aborts)."""
    if group.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def barrier(group: ProcessGroup) -> None:
    """Wait until every process gets here (nothing to wait for when alone)."""
    if group.distributed:
        dist.barrier()


def check_divisible(batch_size: int, group: ProcessGroup) -> None:
    """Equal blocks of streams keep the averaged gradient equal to the whole batch's."""
    if batch_size % group.world_size:
        raise SeqlabError(
            f"batch_size {batch_size} does not split evenly over {group.world_size} processes; "
            f"use a multiple of {group.world_size}"
        )


def own_streams(streams: torch.Tensor, group: ProcessGroup) -> torch.Tensor:
    """This process's contiguous block of the columns of ``streams``.

    Shape:
        streams ``(T, B)`` -> ``(T, B_r)``, the blocks of all ranks concatenating to ``B``.
    """
    if not group.distributed:
        return streams
    return streams.tensor_split(group.world_size, dim=1)[group.rank].contiguous()


def sum_over_processes(values: list[float], group: ProcessGroup, device: torch.device) -> list[float]:
    """The element-wise sum of ``values`` over all processes (the values themselves when alone)."""
    if not group.distributed:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def any_process(flag: bool, group: ProcessGroup, device: torch.device) -> bool:
    """True on every process when ``flag`` is True on any: keeps stopping decisions in step."""
    if not group.distributed:
        return flag
    return sum_over_processes([float(flag)], group, device)[0] > 0


def gather_objects(value: Any, group: ProcessGroup) -> list[Any]:
    """``value`` of every process, in rank order (moved to the CPU by pickling between processes)."""
    if not group.distributed:
        return [value]
    gathered: list[Any] = [None] * group.world_size
    dist.all_gather_object(gathered, value)
    return gathered


def gather_carry(carry: Any, group: ProcessGroup) -> Any:
    """The carried state of every stream: each process's block concatenated along the batch.

    Recurrent states are ``(L, B_r, H)`` and the fixed-window state ``(C, B_r)``: the batch
    is dimension 1 in both, and in every tensor of a nested tuple or list.
    """
    if not group.distributed:
        return carry
    parts = gather_objects(_to_cpu(carry), group)
    return _concatenate(parts)


def own_carry(carry: Any, group: ProcessGroup) -> Any:
    """This process's block of a carried state gathered by :func:`gather_carry`."""
    if not group.distributed or carry is None:
        return carry
    if isinstance(carry, torch.Tensor):
        return carry.tensor_split(group.world_size, dim=1)[group.rank].contiguous()
    return type(carry)(own_carry(part, group) for part in carry)


def _to_cpu(carry: Any) -> Any:
    if isinstance(carry, torch.Tensor):
        return carry.detach().cpu()
    if isinstance(carry, (tuple, list)):
        return type(carry)(_to_cpu(part) for part in carry)
    return carry


def _concatenate(parts: list[Any]) -> Any:
    first = parts[0]
    if first is None:
        return None
    if isinstance(first, torch.Tensor):
        return torch.cat(parts, dim=1)
    return type(first)(_concatenate([part[index] for part in parts]) for index in range(len(first)))
