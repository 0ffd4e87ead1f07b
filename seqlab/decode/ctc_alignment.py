"""Forced alignment under CTC: where each label of a known labelling sits, by Viterbi over the CTC states.

The states are those of Graves et al. (2006, §4.1): the labelling with a blank before, between and
after its labels (l′, 2L + 1 states). A path may stay in a state, move to the next, or skip a blank
between two different labels; the best path's frames in each label's state are that label's span.
"""

from __future__ import annotations

import numba
import numpy as np

from seqlab.decode.ctc import _as_array
from seqlab.errors import SeqlabError


def ctc_forced_alignment(log_probs, labels, *, blank: int = 0) -> list[tuple[int, int, int]]:
    """The frames of each label on the most probable path of ``labels`` (Viterbi over the CTC states).

    Ties go to staying in a state, then to the previous state; at the end to the final blank (as
    :func:`seqlab.reference.ctc_best_path`). The frames between labels are blanks.

    Shape:
        log_probs (T, K), labels (L,) -> L spans ``(label, start_frame, end_frame)``, end exclusive.
    """
    log_probs = _as_array(log_probs, np.float64)
    labels = _as_array(labels, np.int64).reshape(-1)
    if log_probs.ndim != 2 or log_probs.shape[0] < 1 or not 0 <= blank < log_probs.shape[1]:
        raise SeqlabError(f"log_probs must be (T, K) with T >= 1 and blank {blank} below K, got {log_probs.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() >= log_probs.shape[1] or (labels == blank).any()):
        raise SeqlabError(f"labels must lie in [0, {log_probs.shape[1]}) and never be the blank {blank}, got {labels}")
    extended = np.full(2 * len(labels) + 1, blank, dtype=np.int64)
    extended[1::2] = labels
    states = _viterbi_kernel(log_probs, extended, blank)
    if states[0] < 0:
        raise SeqlabError(f"no path of {len(log_probs)} frames has the labels {labels.tolist()}")
    spans: list[tuple[int, int, int]] = []
    for t, state in enumerate(states.tolist()):
        if state % 2 == 1 and (t == 0 or states[t - 1] != state):
            spans.append((int(extended[state]), t, t + 1))
        elif state % 2 == 1:
            spans[-1] = (spans[-1][0], spans[-1][1], t + 1)
    return spans


@numba.njit(cache=True)
def _viterbi_kernel(log_probs, extended, blank):
    """The state of each frame on the best path through the extended labelling; all -1 if there is none."""
    steps, states = log_probs.shape[0], len(extended)
    delta, following = np.full(states, -np.inf), np.empty(states)
    pointers = np.zeros((steps, states), dtype=np.int64)
    delta[0] = log_probs[0, extended[0]]
    if states > 1:
        delta[1] = log_probs[0, extended[1]]
    for t in range(1, steps):
        for s in range(states):
            best, previous = delta[s], s
            if s >= 1 and delta[s - 1] > best:
                best, previous = delta[s - 1], s - 1
            if s >= 2 and extended[s] != blank and extended[s] != extended[s - 2] and delta[s - 2] > best:
                best, previous = delta[s - 2], s - 2
            following[s], pointers[t, s] = best + log_probs[t, extended[s]], previous
        delta[:] = following
    path = np.full(steps, -1, dtype=np.int64)
    state = states - 1 if states == 1 or delta[states - 1] >= delta[states - 2] else states - 2
    if delta[state] == -np.inf:
        return path
    path[steps - 1] = state
    for t in range(steps - 1, 0, -1):
        state = pointers[t, state]
        path[t - 1] = state
    return path
