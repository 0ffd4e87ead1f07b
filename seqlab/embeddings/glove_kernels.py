"""The compiled inner loop of GloVe: one call trains on a block of X's entries, in the order given.

The kernel releases the GIL, so several Python threads train at once on the same parameters
without locks ("Hogwild", Recht et al. 2011), as the Stanford tool's threads do.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from seqlab.embeddings.prefetch import prefetch_row

# Reassociation lets the D-loops vectorise; no flag that assumes finite values (a diverging run
# must show as inf or nan in the cost) and none that approximates sqrt, log or pow.
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}
# numpy's error model: Python's check for division by zero inside the update loop keeps it from
# vectorising (3x slower); the accumulators are >= 1, so nothing is ever divided by zero.
_ERROR_MODEL = "numpy"
_PREFETCH_AHEAD = 2  # entries; measured best on wikitext-2's X (1 and 4 were slower)


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model=_ERROR_MODEL)
def glove_weight(x, x_max, alpha):
    """f(x) = (x / x_max)^alpha below x_max, 1 from there on (the paper's eq. 9)."""
    return 1.0 if x >= x_max else (x / x_max) ** alpha


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model=_ERROR_MODEL)
def glove_train_entries(
    rows, cols, values, W, C, b, c, W_gradsq, C_gradsq, b_gradsq, c_gradsq, x_max, alpha, learning_rate, grad_clip
) -> float:
    """One AdaGrad step, as glove.c takes it, on each entry of X in the order given.

    For entry (i, j) with ``e = w_i·w̃_j + b_i + b̃_j - log X_ij``, the loss is ``½ f(X_ij) e²`` and its
    gradient is ``f e`` times (w̃_j, w_i, 1, 1) for (w_i, w̃_j, b_i, b̃_j). The steps are those of
    ``glove_thread`` in the Stanford tool's ``src/glove.c`` (GitHub master), each parameter θ with
    gradient g and accumulator G (started at 1):

    - a vector component: ``s = η · clip(g, -grad_clip, grad_clip)``, then ``θ ← θ - s / √G`` and
      ``G ← G + s²`` (the accumulator sums the squared *steps*, not the squared gradients);
    - a bias: ``θ ← θ - g / √G`` and ``G ← G + g²``: glove.c applies neither η nor the clip to the
      biases (stanfordnlp/GloVe pull request 209 proposes adding both).

    Both vectors' steps are computed from the values before the entry's update. glove.c also skips
    an entry whose error is not finite, skips a vector update whose steps sum to inf or NaN and
    zeroes a bias step that is; this loop does not, so a diverging run shows as inf or NaN in the
    returned cost.

    The entries come in the order to visit them (the caller shuffles X), so reading them is
    sequential; the parameter rows two entries ahead are prefetched, since waiting for them is
    what the loop otherwise spends most of its time on.

    Args:
        rows, cols: (S,) int32 word and context-word index of each entry.
        values: (S,) float64 X_ij > 0.
        W, C: (V, D) word and context vectors (float32 or float64), updated in place.
        b, c: (V,) word and context biases, updated in place.
        W_gradsq, C_gradsq, b_gradsq, c_gradsq: their AdaGrad accumulators, same shapes, updated in place.
        x_max, alpha: the weighting function's parameters.
        learning_rate: η, for the vectors.
        grad_clip: the largest magnitude of a vector's gradient component (glove.c's ``grad_clip_value``).

    Returns:
        Σ ½ f(X_ij) e² over the entries, each term taken before its entry's update, in float64.
    """
    dim = W.shape[1]
    entries = rows.shape[0]
    cost = 0.0
    for n in range(entries):
        if n + _PREFETCH_AHEAD < entries:
            prefetch_row(W, rows[n + _PREFETCH_AHEAD])
            prefetch_row(W_gradsq, rows[n + _PREFETCH_AHEAD])
            prefetch_row(C, cols[n + _PREFETCH_AHEAD])
            prefetch_row(C_gradsq, cols[n + _PREFETCH_AHEAD])
        i = rows[n]
        j = cols[n]
        error = b[i] + c[j] - np.log(values[n])
        for d in range(dim):
            error += W[i, d] * C[j, d]
        weighted_error = glove_weight(values[n], x_max, alpha) * error  # f e: the gradient of both biases
        cost += 0.5 * weighted_error * error
        for d in range(dim):
            word_step = learning_rate * _clip(weighted_error * C[j, d], grad_clip)
            context_step = learning_rate * _clip(weighted_error * W[i, d], grad_clip)
            W[i, d] -= word_step / np.sqrt(W_gradsq[i, d])
            C[j, d] -= context_step / np.sqrt(C_gradsq[j, d])
            W_gradsq[i, d] += word_step * word_step
            C_gradsq[j, d] += context_step * context_step
        b[i] -= weighted_error / np.sqrt(b_gradsq[i])
        c[j] -= weighted_error / np.sqrt(c_gradsq[j])
        b_gradsq[i] += weighted_error * weighted_error
        c_gradsq[j] += weighted_error * weighted_error
    return cost


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model=_ERROR_MODEL, inline="always")
def _clip(gradient, bound):
    """``gradient`` limited to [-bound, bound]; NaN passes through."""
    if gradient > bound:
        return bound
    if gradient < -bound:
        return -bound
    return gradient
