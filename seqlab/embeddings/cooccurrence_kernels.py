"""The compiled loops of co-occurrence counting: window pairs, their sums, and the mirrored matrix entries.

Counting works on *pair keys*: the unordered pair of words ``{a, b}`` with ``lo = min(a, b)`` and
``hi = max(a, b)`` is the integer ``lo * V + hi``, so sorting keys sorts pairs by (lo, hi) and equal
pairs become neighbours. While a chunk of text is counted, the distance ``d`` (1..window) of each
occurrence is folded into its key as ``pair_key * window + (d - 1)``: a chunk is then one array of
int64 to sort, and a pair's weight ``Σ 1/d`` is summed from how often each distance occurs (twice
that for a word paired with itself, which stands for both directions of the symmetric count).
"""

from __future__ import annotations

import numpy as np
from numba import njit


def window_pair_count(ends: np.ndarray, window: int) -> int:
    """How many (earlier word, later word) pairs at distance 1..window the sentences hold.

    Args:
        ends: (S,) int64 sentence end offsets of an encoded chunk, the first sentence starting at 0.
        window: the largest distance counted.
    """
    lengths = np.diff(ends, prepend=0).astype(np.int64)
    short = lengths <= window  # every pair of a short sentence is within the window
    full = lengths * window - window * (window + 1) // 2
    return int(np.where(short, lengths * (lengths - 1) // 2, full).sum())


@njit(cache=True, nogil=True)
def folded_pair_keys(tokens, ends, window, vocab_size, out) -> None:
    """Write the folded key of every pair at distance 1..window within each sentence.

    Args:
        tokens: (N,) int32 vocabulary indices of the chunk.
        ends: (S,) int64 sentence end offsets in ``tokens``; windows stop at sentence ends.
        window: the largest distance counted.
        vocab_size: V.
        out: (window_pair_count(ends, window),) int64, receives ``(lo * V + hi) * window + d - 1``.
    """
    n = 0
    start = 0
    for s in range(ends.shape[0]):
        end = ends[s]
        for p in range(start, end):
            a = np.int64(tokens[p])
            for q in range(p + 1, min(p + window + 1, end)):
                b = np.int64(tokens[q])
                pair = a * vocab_size + b if a <= b else b * vocab_size + a
                out[n] = pair * window + (q - p - 1)
                n += 1
        start = end


_DIGIT_BITS = 11  # 2048 buckets: the counts stay in L1 cache, a 33-bit key takes 3 passes


@njit(cache=True, nogil=True)
def radix_sort(keys, values, key_bits):
    """Sort non-negative keys, carrying values along; stable, so equal keys keep their order.

    A least-significant-digit radix sort: for the few tens of bits of pair keys it is several
    times faster than numpy's comparison sorts.

    Args:
        keys: (P,) int64 in [0, 2**key_bits); overwritten.
        values: (P,) float64 moved with their keys, or (0,) to sort keys alone; overwritten.
        key_bits: how many low bits of the keys can be nonzero.

    Returns:
        (keys (P,) ascending, values (P,) in the same order), in the input arrays or in new ones.
    """
    mask = (1 << _DIGIT_BITS) - 1
    carry = values.shape[0] > 0
    source_keys, target_keys = keys, np.empty_like(keys)
    source_values, target_values = values, np.empty_like(values)
    offsets = np.empty(1 << _DIGIT_BITS, np.int64)
    for shift in range(0, key_bits, _DIGIT_BITS):
        offsets[:] = 0
        for k in range(keys.shape[0]):
            offsets[(source_keys[k] >> shift) & mask] += 1
        total = 0
        for digit in range(offsets.shape[0]):
            total, offsets[digit] = total + offsets[digit], total
        for k in range(keys.shape[0]):
            digit = (source_keys[k] >> shift) & mask
            target_keys[offsets[digit]] = source_keys[k]
            if carry:
                target_values[offsets[digit]] = source_values[k]
            offsets[digit] += 1
        source_keys, target_keys = target_keys, source_keys
        source_values, target_values = target_values, source_values
    return source_keys, source_values


@njit(cache=True, nogil=True)
def sum_folded_keys(sorted_keys, window, vocab_size):
    """The weight of each pair from its sorted folded keys: ``Σ 1/d`` over its occurrences.

    A pair of a word with itself stands for both X[i, i] entries of the symmetric count, so its
    weight is doubled (the Stanford tool adds 1/d to X[i, j] and to X[j, i], twice when i = j).

    Args:
        sorted_keys: (P,) int64 folded keys in ascending order.
        window: the window the keys were folded with.
        vocab_size: V.

    Returns:
        (pair_keys (K,) int64 ascending and unique, weights (K,) float64).
    """
    unique = 0
    next_pair_start = 0  # the first folded key of the pair after the current one; divides once per pair
    for k in range(sorted_keys.shape[0]):
        if sorted_keys[k] >= next_pair_start:
            unique += 1
            next_pair_start = (sorted_keys[k] // window + 1) * window
    pair_keys = np.empty(unique, np.int64)
    weights = np.zeros(unique, np.float64)
    m = -1
    next_pair_start = 0
    doubled = False
    k = 0
    while k < sorted_keys.shape[0]:
        key = sorted_keys[k]
        repeats = 1
        while k + repeats < sorted_keys.shape[0] and sorted_keys[k + repeats] == key:
            repeats += 1
        if key >= next_pair_start:
            m += 1
            pair_keys[m] = key // window
            next_pair_start = (pair_keys[m] + 1) * window
            doubled = pair_keys[m] % (vocab_size + 1) == 0  # lo * V + lo = lo * (V + 1)
        distance = key - (next_pair_start - window) + 1
        # count / d rather than adding 1/d count times: one rounding per distance
        weights[m] += (2.0 if doubled else 1.0) * repeats / distance
        k += repeats
    return pair_keys, weights


@njit(cache=True, nogil=True)
def sum_sorted_duplicates(sorted_keys, values):
    """Add up the values of equal keys, in the order they come.

    Args:
        sorted_keys: (P,) int64 ascending, with repeats.
        values: (P,) float64, the value of each key occurrence.

    Returns:
        (keys (K,) int64 unique, sums (K,) float64).
    """
    unique = 0
    for k in range(sorted_keys.shape[0]):
        if k == 0 or sorted_keys[k] != sorted_keys[k - 1]:
            unique += 1
    keys = np.empty(unique, np.int64)
    sums = np.zeros(unique, np.float64)
    m = -1
    for k in range(sorted_keys.shape[0]):
        if k == 0 or sorted_keys[k] != sorted_keys[k - 1]:
            m += 1
            keys[m] = sorted_keys[k]
        sums[m] += values[k]
    return keys, sums


@njit(cache=True, nogil=True)
def mirrored_entries(pair_keys, weights, vocab_size):
    """The entries of the symmetric matrix: (lo, hi) then, unless lo = hi, (hi, lo), for each pair.

    Args:
        pair_keys: (K,) int64 pair keys ``lo * V + hi``.
        weights: (K,) float64, X[lo, hi].
        vocab_size: V.

    Returns:
        (rows (M,) int32, cols (M,) int32, values (M,) float64), M = 2K minus the diagonal pairs.
    """
    rows = np.empty(2 * pair_keys.shape[0], np.int32)
    cols = np.empty_like(rows)
    values = np.empty(rows.shape[0], np.float64)
    m = 0
    for k in range(pair_keys.shape[0]):
        lo = pair_keys[k] // vocab_size
        hi = pair_keys[k] - lo * vocab_size
        rows[m], cols[m], values[m] = lo, hi, weights[k]
        m += 1
        if lo != hi:
            rows[m], cols[m], values[m] = hi, lo, weights[k]
            m += 1
    # the few diagonal pairs leave a tail of at most V unused entries; slicing avoids a copy
    return rows[:m], cols[:m], values[:m]
