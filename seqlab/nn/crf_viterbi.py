"""Viterbi decoding of a linear-chain CRF (Viterbi 1967), as a loop compiled by numba.

At a tagger's sizes (tens of tags, tens of words) a torch op costs more than its arithmetic, so the
best path is found by a plain loop over sentences, words and tags, compiled for the CPU, several
times faster than three batched torch ops a word were (BENCHMARKS.md has the figures).
:class:`seqlab.nn.LinearChainCRF` calls :func:`viterbi` from ``decode``.
"""

from __future__ import annotations

import numba
import numpy as np
import torch
from torch import Tensor

NO_TAG = -1  # the tag of padding, and of the paths that do not exist, in decoded paths


def viterbi(emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor) -> tuple[Tensor, Tensor]:
    """The best path of each sentence (Viterbi 1967): ``seqlab.nn.crf``'s list Viterbi for k = 1, by a compiled loop.

    The arrays are copied to the CPU once (from any device), :func:`_viterbi_kernel` runs there, and
    the results come back to the emissions' device: the paths go to Python lists anyway.

    Shape:
        emissions (B, T, K), mask (B, T) -> tags (B, T), scores (B,).
    """
    dtype = torch.promote_types(emissions.dtype, transitions.dtype)
    working = torch.promote_types(dtype, torch.float32)  # NumPy has no bfloat16: half types run in float32
    arrays = [value.detach().to("cpu", working).numpy() for value in (emissions, transitions, start, end)]
    tags, scores = _viterbi_kernel(arrays[0], mask.sum(1).cpu().numpy(), *arrays[1:])
    device = emissions.device
    return torch.from_numpy(tags).to(device), torch.from_numpy(scores).to(device, dtype)


@numba.njit(cache=True)
def _viterbi_kernel(emissions, lengths, transitions, start, end):
    """Viterbi one sentence at a time: δ_t[j] = max_i (δ_{t-1}[i] + A[i, j]) + P[t, j], then the backtrace.

    Ties go to the lowest previous tag. A sentence without an allowed path keeps tags -1 and score -inf.
    """
    batch, steps, num_tags = emissions.shape
    tags = np.full((batch, steps), NO_TAG, dtype=np.int64)
    scores = np.empty(batch, dtype=emissions.dtype)
    delta = np.empty(num_tags, dtype=emissions.dtype)
    following = np.empty(num_tags, dtype=emissions.dtype)
    pointers = np.zeros((max(steps, 1), num_tags), dtype=np.int64)
    for b in range(batch):
        length = lengths[b]
        for j in range(num_tags):
            delta[j] = start[j] + emissions[b, 0, j]
        for t in range(1, length):
            for j in range(num_tags):
                best, previous = -np.inf, 0
                for i in range(num_tags):
                    value = delta[i] + transitions[i, j]
                    if value > best:
                        best, previous = value, i
                pointers[t, j] = previous
                following[j] = best + emissions[b, t, j]
            delta[:] = following
        best, current = -np.inf, 0
        for j in range(num_tags):
            if delta[j] + end[j] > best:
                best, current = delta[j] + end[j], j
        scores[b] = best
        if best == -np.inf:
            continue
        tags[b, length - 1] = current
        for t in range(length - 1, 0, -1):
            current = pointers[t, current]
            tags[b, t - 1] = current
    return tags, scores
