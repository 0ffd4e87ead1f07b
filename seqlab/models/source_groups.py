"""Rows of a search state grouped by source sentence, so that the encoder's outputs are kept once per group.

A beam search holds N = G × R rows: G groups of R consecutive rows (the beams of one source
sentence). What every row of a group reads alike (the encoder states, their padding mask, the
attention's key projection) is stored once per group, ``(G, S, ·)``; what differs per row (the
decoder's hidden state) is stored per row. A search reorders the rows with ``order``: it expands
each sentence into R beams, permutes beams within their sentence, and drops finished sentences.
None of these needs the per-group tensors copied except the last, where they shrink; copying them
for all N rows at every step (as fairseq's ``reorder_encoder_out`` does) costs as much as a
matrix product of the step.
"""

from __future__ import annotations

import torch
from torch import Tensor


def regroup(order: Tensor, rows_per_group: int, groups: int) -> tuple[Tensor | None, int]:
    """The groups the new rows ``order`` read, and how many rows each new group has.

    The new rows are split into runs of equal length R' of consecutive rows that come from one old
    group; when ``order`` does not split so, every row becomes a group of its own (R' = 1, always
    valid). Two host syncs; no copy of the per-group tensors.

    Args:
        order: the new rows, by index into the old N = ``groups * rows_per_group`` rows.
        rows_per_group: R, the old rows per group.
        groups: G, the old number of groups.

    Shape:
        - order: ``(M,)`` long

    Returns:
        ``(index, R')``: ``index`` (M / R',) says which old group each new group reads, or is None
        when it is ``0..G-1`` in order (the per-group tensors stay as they are).

    Example:
        >>> regroup(torch.tensor([0, 0, 0, 1, 1, 1]), 1, 2)  # two sentences expanded into 3 beams
        (None, 3)
        >>> regroup(torch.tensor([3, 2, 5, 5]), 2, 3)  # sentence 0 dropped, the beams of 1 and 2 reordered
        (tensor([1, 2]), 2)
    """
    source_group = torch.div(order, rows_per_group, rounding_mode="floor")  # (M,)
    if order.numel() == 0:
        return source_group, 1
    starts = torch.ones_like(source_group, dtype=torch.bool)  # (M,) True where a run of one group starts
    starts[1:] = source_group[1:] != source_group[:-1]
    runs = int(starts.sum())
    size = order.numel() // runs
    if runs * size != order.numel() or not bool(starts.view(runs, size)[:, 0].all()):
        return source_group, 1
    index = source_group.view(runs, size)[:, 0]  # (G',)
    if runs == groups and torch.equal(index, torch.arange(groups, device=index.device)):
        return None, size
    return index, size
