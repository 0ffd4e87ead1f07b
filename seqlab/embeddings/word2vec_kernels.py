"""The compiled inner loops of word2vec: one call trains on a slice of sentences.

Each kernel releases the GIL, so several Python threads train at once on the same weight
matrices without locks ("Hogwild", Recht et al. 2011), as word2vec.c and gensim do.

Notation: ``W`` (V, D) holds the input vectors (the word vectors one keeps), ``C`` the output
vectors: one per word for negative sampling and full softmax, one per inner Huffman node for
hierarchical softmax. A *prediction* is one (input, target word) pair: in skip-gram the input is
one context word and the target the centre word; in CBOW the input is the mean of the context
words. Every loss is the exact negative log-likelihood of the prediction, summed over it:

- negative sampling: ``-log σ(h·c_t) - Σ_k log σ(-h·c_k)`` over the drawn noise words ``k``;
- hierarchical softmax: ``-Σ_n log σ(±h·c_n)`` over the inner nodes ``n`` on the target's path;
- full softmax: ``-log softmax(C h)_t``.

Hierarchical softmax updates the inner nodes near the root of the Huffman tree in nearly every
prediction. Shared between threads, their rows would move from core to core at each update, and
that traffic, not arithmetic, would bound the speed of several threads. So each job trains a private
copy of the ``HOT_NODES`` busiest rows and adds its change to ``C`` when it ends; a job alone (one
thread) gets exactly the sequential result.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from seqlab.embeddings.prefetch import prefetch_row

NEGATIVE_SAMPLING, HIERARCHICAL_SOFTMAX, FULL_SOFTMAX = 0, 1, 2
SKIP_GRAM, CBOW = 0, 1
HOT_NODES = 64  # rows of C nearest the Huffman root that each job trains privately (see the module docstring)
# Every kernel uses error_model="numpy" (no divisor here can be zero): without the code paths that
# raise ZeroDivisionError, numba drops the reference counting of the arrays passed at each call.
ARCHITECTURES = {"skipgram": SKIP_GRAM, "cbow": CBOW}
LOSSES = {"negative": NEGATIVE_SAMPLING, "hierarchical": HIERARCHICAL_SOFTMAX, "softmax": FULL_SOFTMAX}

_LCG_MULTIPLIER = 6364136223846793005  # Knuth's MMIX linear congruential generator
_LCG_INCREMENT = 1442695040888963407
_TWO_TO_53 = 9007199254740992.0


@njit(inline="always")
def _uniform(state: np.ndarray) -> float:
    """A uniform number in [0, 1) from the 53 high bits of a 64-bit LCG kept in ``state[0]``."""
    state[0] = state[0] * _LCG_MULTIPLIER + _LCG_INCREMENT
    return ((state[0] >> 11) & 0x1FFFFFFFFFFFFF) / _TWO_TO_53


_TABLE_RANGE = 8.0  # σ and softplus are tabulated on [-8, 8] and interpolated linearly
_TABLE_STEPS = 2048
_TABLE_SCALE = _TABLE_STEPS / (2 * _TABLE_RANGE)
_TABLE_X = np.linspace(-_TABLE_RANGE, _TABLE_RANGE, _TABLE_STEPS + 1)
SIGMOID_TABLE = 1.0 / (1.0 + np.exp(-_TABLE_X))
SOFTPLUS_TABLE = np.logaddexp(0.0, _TABLE_X)


@njit(inline="always")
def _sigmoid_and_softplus(x: float) -> tuple[float, float]:
    """σ(x) and log(1 + e^x).

    Inside [-8, 8] both come from tables with linear interpolation (absolute error below 2e-6,
    many times cheaper than exp and log1p); outside, from the exact formulas, which are rarely needed.
    """
    if -_TABLE_RANGE < x < _TABLE_RANGE:
        position = (x + _TABLE_RANGE) * _TABLE_SCALE
        i = int(position)
        frac = position - i
        sigmoid = SIGMOID_TABLE[i] + frac * (SIGMOID_TABLE[i + 1] - SIGMOID_TABLE[i])
        return sigmoid, SOFTPLUS_TABLE[i] + frac * (SOFTPLUS_TABLE[i + 1] - SOFTPLUS_TABLE[i])
    e = np.exp(-abs(x))
    if x >= 0:
        return 1.0 / (1.0 + e), x + np.log1p(e)
    return e / (1.0 + e), np.log1p(e)


@njit(nogil=True, fastmath=True, cache=True, error_model="numpy")
def logistic_update(h, C, rows, labels, count, alpha, h_grad) -> float:
    """One SGD step of binary logistic regressions of ``h`` against ``C[rows[:count]]``.

    Each output vector moves by ``alpha * (label - σ(h·c)) * h``; the step for ``h`` is
    accumulated into ``h_grad`` (the caller applies it after all rows, as word2vec does).

    Args:
        h: (D,) the input vector (read only here).
        C: (R, D) output vectors, updated in place.
        rows: (>= count,) int32 rows of ``C`` to train.
        labels: (>= count,) float32 targets, 1.0 for the true word or branch, 0.0 for noise.
        count: how many rows to train.
        alpha: the learning rate.
        h_grad: (D,) float32, receives ``alpha * Σ (label - σ) c`` (a step, not a gradient).

    Returns:
        The summed loss ``-Σ log σ(±h·c)`` before the update, in nats.
    """
    dim = h.shape[0]
    loss = 0.0
    for r in range(count):
        row = rows[r]
        score = np.float32(0.0)  # float32 throughout the D-loops, so they vectorise without conversions
        for d in range(dim):
            score += h[d] * C[row, d]
        label = labels[r]
        probability, softplus = _sigmoid_and_softplus(score)
        loss += softplus - label * score  # -log σ(s) if label 1, -log σ(-s) if label 0
        g = np.float32((label - probability) * alpha)
        for d in range(dim):
            c = C[row, d]
            h_grad[d] += g * c
            C[row, d] = c + g * h[d]
    return loss


@njit(nogil=True, fastmath=True, cache=True, error_model="numpy", inline="always")
def path_update(X, x_row, C, hot, rows, labels, count, alpha, h_grad, scores) -> float:
    """``logistic_update`` of the input vector ``X[x_row]`` against the inner nodes of one Huffman path.

    The same result as ``logistic_update``, faster: a path never visits a node twice and the input
    is fixed until the caller applies ``h_grad``, so no score depends on another node's update. All
    are computed first, and the dot products, each a long chain of dependent additions, overlap
    instead of waiting for each other. The input is passed as a row of its matrix, not as a view,
    since numba counts references to a view at every call.

    Args:
        X, x_row: the input vector is ``X[x_row]`` (read only here).
        hot: (K, D) the job's copy of the last K rows of ``C``, trained in their place.
        scores: (>= count,) float64 scratch space.
        The others as for ``logistic_update``.
    """
    dim = X.shape[1]
    cut = C.shape[0] - hot.shape[0]
    for r in range(count):
        row = rows[r]
        score = np.float32(0.0)
        if row >= cut:  # two loops, not one over a chosen matrix, which numba would not vectorise
            for d in range(dim):
                score += X[x_row, d] * hot[row - cut, d]
        else:
            for d in range(dim):
                score += X[x_row, d] * C[row, d]
        scores[r] = score
    loss = 0.0
    for r in range(count):
        row = rows[r]
        score, label = scores[r], labels[r]
        probability, softplus = _sigmoid_and_softplus(score)
        loss += softplus - label * score
        g = np.float32((label - probability) * alpha)
        if row >= cut:
            for d in range(dim):
                c = hot[row - cut, d]
                h_grad[d] += g * c
                hot[row - cut, d] = c + g * X[x_row, d]
        else:
            for d in range(dim):
                c = C[row, d]
                h_grad[d] += g * c
                C[row, d] = c + g * X[x_row, d]
    return loss


@njit(inline="always")
def _merge_hot_rows(C, hot, base) -> None:
    """Add the job's change of its private rows (``hot - base``) to ``C``.

    A row no other thread has changed takes the private value itself, so a job alone is exact.
    """
    cut = C.shape[0] - hot.shape[0]
    for r in range(hot.shape[0]):
        for d in range(hot.shape[1]):
            c = C[cut + r, d]
            C[cut + r, d] = hot[r, d] if c == base[r, d] else c + (hot[r, d] - base[r, d])


@njit(nogil=True, fastmath=True, cache=True, error_model="numpy")
def softmax_update(h, C, target, alpha, h_grad, scores) -> float:
    """One SGD step of the full softmax ``p = softmax(C h)`` towards word ``target``.

    Args:
        h: (D,) the input vector.
        C: (V, D) output vectors, updated in place: ``c_k += alpha * (1[k = t] - p_k) * h``.
        target: the word to predict.
        alpha: the learning rate.
        h_grad: (D,) receives ``alpha * Σ_k (1[k = t] - p_k) c_k``.
        scores: (V,) float64 scratch space.

    Returns:
        ``-log p_target`` before the update, in nats.
    """
    vocab_size, dim = C.shape
    top = -np.inf
    for k in range(vocab_size):
        s = 0.0
        for d in range(dim):
            s += h[d] * C[k, d]
        scores[k] = s
        top = max(top, s)
    total = 0.0
    for k in range(vocab_size):
        scores[k] = np.exp(scores[k] - top)
        total += scores[k]
    loss = -np.log(scores[target] / total)
    for k in range(vocab_size):
        g = ((1.0 if k == target else 0.0) - scores[k] / total) * alpha
        for d in range(dim):
            c = C[k, d]
            h_grad[d] += g * c
            C[k, d] = c + g * h[d]
    return loss


@njit(inline="always")
def _draw_noise(alias_keep, alias_index, state) -> int:
    """One noise word from the alias table, with one uniform number."""
    vocab_size = alias_keep.shape[0]
    u = _uniform(state) * vocab_size
    k = min(int(u), vocab_size - 1)
    return k if u - k < alias_keep[k] else alias_index[k]


@njit(nogil=True, cache=True, error_model="numpy")
def draw_noise_words(alias_keep, alias_index, count, seed):
    """(count,) int32 noise words drawn exactly as the training kernel draws them (for checking it)."""
    state = np.array([seed], dtype=np.int64)
    words = np.empty(count, np.int32)
    for n in range(count):
        words[n] = _draw_noise(alias_keep, alias_index, state)
    return words


@njit(inline="always")
def _draw_upcoming_noise(C, alias_keep, alias_index, upcoming_noise, noise_state) -> None:
    """Draw the next prediction's noise words now, and have their output rows loaded meanwhile."""
    for k in range(upcoming_noise.shape[0]):
        upcoming_noise[k] = _draw_noise(alias_keep, alias_index, noise_state)
        prefetch_row(C, upcoming_noise[k])


@njit(inline="always")
def _load_path(codes, points, lengths, word, rows, labels) -> int:
    """Write ``word``'s Huffman path (inner nodes, branch labels) into ``rows`` and ``labels``; returns its length."""
    count = lengths[word]
    for n in range(count):
        rows[n] = points[word, n]
        labels[n] = 1.0 - codes[word, n]  # word2vec.c's convention: bit 1 is the label-0 branch
    return count


@njit(inline="always")
def _predict(h, C, target, loss_kind, tables, work, alpha) -> float:
    """Train the output layer to predict ``target`` from ``h`` by negative sampling or the full
    softmax; returns the loss.

    ``work`` is (rows, labels, h_grad, scores, upcoming_noise, noise_state); the step for ``h``
    is left in ``h_grad``. Negative sampling uses the noise words drawn one prediction ahead.
    """
    _, alias_keep, alias_index, _, _, _ = tables
    rows, labels, h_grad, scores, upcoming_noise, noise_state = work
    h_grad[:] = 0.0
    if loss_kind == FULL_SOFTMAX:
        return softmax_update(h, C, target, alpha, h_grad, scores)
    rows[0] = target
    labels[0] = 1.0
    count = 1
    for noise in upcoming_noise:
        if noise != target:  # a draw of the true word is skipped, as in word2vec.c
            rows[count] = noise
            labels[count] = 0.0
            count += 1
    _draw_upcoming_noise(C, alias_keep, alias_index, upcoming_noise, noise_state)
    return logistic_update(h, C, rows, labels, count, alpha, h_grad)


@njit(inline="always")
def _subsample(tokens, begin, end, keep_probability, sentence, state) -> int:
    """Copy the words of ``tokens[begin:end]`` that survive subsampling into ``sentence``; returns how many."""
    length = 0
    for t in range(begin, end):
        word = tokens[t]
        if keep_probability[word] >= 1.0 or keep_probability[word] > _uniform(state):
            sentence[length] = word
            length += 1
    return length


@njit(inline="always")
def _add_to_row(W, row, step) -> None:
    for d in range(W.shape[1]):
        W[row, d] += step[d]


@njit(nogil=True, fastmath=True, cache=True, error_model="numpy")
def train_sentences(
    tokens, ends, first, last, W, C, architecture, loss_kind, tables, window, negative, alpha_start, alpha_end, seeds
):
    """Train on sentences ``first .. last-1`` of an encoded corpus; the core of one job.

    Args:
        tokens: (N,) int32 word indices; ends: (S,) int64 sentence end offsets.
        first, last: the sentence range of this job.
        W: (V, D) float32 input vectors; C: output vectors (see the module docstring); both updated.
        architecture: SKIP_GRAM or CBOW (the mean of the context vectors).
        loss_kind: NEGATIVE_SAMPLING, HIERARCHICAL_SOFTMAX or FULL_SOFTMAX.
        tables: (keep_probability (V,) float32 subsampling probabilities, alias_keep and
            alias_index of the noise distribution's alias table, codes, points and lengths of
            the Huffman code for hierarchical softmax).
        window: the largest distance from the centre word; each centre draws its own window
            uniformly from 1..window ("dynamic window").
        negative: noise words per prediction.
        alpha_start, alpha_end: the learning rate decays linearly between these over the job's words.
        seeds: (2,) int64 seeds of the job's two random streams: subsampling and windows; noise words.

    Returns:
        (summed loss in nats, predictions made, words trained on after subsampling).
    """
    keep_probability, alias_keep, alias_index, codes, points, lengths = tables
    state = np.array([seeds[0]], dtype=np.int64)
    noise_state = np.array([seeds[1]], dtype=np.int64)
    start = 0 if first == 0 else ends[first - 1]
    job_words = max(ends[last - 1] - start, 1) if last > first else 1
    longest = 1
    for s in range(first, last):
        longest = max(longest, ends[s] - (0 if s == 0 else ends[s - 1]))
    sentence = np.empty(longest, np.int32)
    rows = np.empty(max(negative + 1, codes.shape[1]), np.int32)
    mean, h_grad = np.empty((1, W.shape[1]), np.float32), np.empty(W.shape[1], np.float32)
    h = mean[0]  # CBOW's input, the single row of ``mean``
    scores = np.empty(C.shape[0] if loss_kind == FULL_SOFTMAX else rows.shape[0], np.float64)
    upcoming_noise = np.empty(negative if loss_kind == NEGATIVE_SAMPLING else 0, np.int32)
    _draw_upcoming_noise(C, alias_keep, alias_index, upcoming_noise, noise_state)
    hierarchical = loss_kind == HIERARCHICAL_SOFTMAX
    hot = C[C.shape[0] - min(HOT_NODES, C.shape[0]) if hierarchical else C.shape[0] :].copy()
    base = hot.copy()
    labels = np.empty(rows.shape[0], np.float32)
    work = (rows, labels, h_grad, scores, upcoming_noise, noise_state)
    loss, predictions, words = 0.0, 0, 0
    for s in range(first, last):
        begin = 0 if s == 0 else ends[s - 1]
        alpha = alpha_start + (alpha_end - alpha_start) * (begin - start) / job_words
        length = _subsample(tokens, begin, ends[s], keep_probability, sentence, state)
        words += length
        for i in range(length):
            reach = window - int(_uniform(state) * window)  # 1..window
            lo, hi = max(0, i - reach), min(length, i + reach + 1)
            # Hierarchical softmax bypasses _predict: the centre's path serves all its predictions, and
            # passing arrays in tuples or as views would cost numba reference counting at each one.
            path = _load_path(codes, points, lengths, sentence[i], rows, labels) if hierarchical else 0
            if architecture == SKIP_GRAM:
                for j in range(lo, hi):
                    if j != i:
                        if hierarchical:
                            h_grad[:] = 0.0
                            loss += path_update(W, sentence[j], C, hot, rows, labels, path, alpha, h_grad, scores)
                        else:
                            loss += _predict(W[sentence[j]], C, sentence[i], loss_kind, tables, work, alpha)
                        _add_to_row(W, sentence[j], h_grad)
                        predictions += 1
            elif hi - lo > 1:
                h[:] = 0.0
                for j in range(lo, hi):
                    if j != i:
                        h += W[sentence[j]]
                h *= np.float32(1.0 / (hi - lo - 1))
                if hierarchical:
                    h_grad[:] = 0.0
                    loss += path_update(mean, 0, C, hot, rows, labels, path, alpha, h_grad, scores)
                else:
                    loss += _predict(h, C, sentence[i], loss_kind, tables, work, alpha)
                for j in range(lo, hi):  # word2vec.c gives every context word the full step of the mean
                    if j != i:
                        _add_to_row(W, sentence[j], h_grad)
                predictions += 1
    _merge_hot_rows(C, hot, base)
    return loss, predictions, words
