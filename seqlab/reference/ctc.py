"""Connectionist temporal classification (Graves et al. 2006, §3–4): the loss, its gradient, the best alignment.

One utterance at a time, in float64 and in log space, with explicit loops over time: the oracle of
``torch.nn.functional.ctc_loss`` and of the CTC decoders in :mod:`seqlab.decode.ctc`. Frames are
0-based here (t = 0 … T-1, the paper's 1 … T) and so are the states s of the extended labelling.

A network reads T frames and gives, at every frame t, a distribution y^t over K symbols: the labels
and the blank b. A path π ∈ {0 … K-1}^T has probability p(π|x) = Π_t y^t_{π_t}, and the many-to-one
map B (§3.1) merges repeated symbols, then removes the blanks: B(a-ab-) = B(-aa--abb) = aab. A
labelling l is as probable as all its paths (§3.1):

    p(l|x) = Σ_{π ∈ B⁻¹(l)} p(π|x),        loss = -ln p(l|x)

The forward-backward algorithm (§4.1) sums the paths through the extended labelling l', l with a
blank before, between and after its labels (|l'| = S = 2L + 1): state s = 2j + 1 is label l_j, the
even states are blanks. A path stays in its state, moves to the next, or skips a blank between two
*different* labels; two equal labels need the blank between them, so a labelling of L labels with R
adjacent repeats needs T ≥ L + R frames (:func:`ctc_min_frames`). With ᾱ_t(s) = α_{t-1}(s) + α_{t-1}(s-1),

    α_0(0) = y^0_b,   α_0(1) = y^0_{l_1},   α_0(s) = 0 for s > 1
    α_t(s) = ᾱ_t(s) y^t_{l'_s}                       if l'_s = b or l'_{s-2} = l'_s
             (ᾱ_t(s) + α_{t-1}(s-2)) y^t_{l'_s}      otherwise
    p(l|x) = α_{T-1}(S-1) + α_{T-1}(S-2)                                  (eq. 5–8)

and the backward variables, the same recursion run from the end (β_t(s) counts y^t_{l'_s} too):

    β_{T-1}(S-1) = y^{T-1}_b,   β_{T-1}(S-2) = y^{T-1}_{l_L},   β_{T-1}(s) = 0 otherwise
    β_t(s) = (β_{t+1}(s) + β_{t+1}(s+1)) y^t_{l'_s}                   if l'_s = b or l'_{s+2} = l'_s
             (β_{t+1}(s) + β_{t+1}(s+1) + β_{t+1}(s+2)) y^t_{l'_s}    otherwise          (eq. 10–12)

At every frame the paths through (t, s) sum to α_t(s) β_t(s) / y^t_{l'_s}, so that (eq. 14)

    p(l|x) = Σ_s α_t(s) β_t(s) / y^t_{l'_s}     for every t,

and the posterior of symbol k at frame t, the share of p(l|x) whose path emits k at t, is

    q_t(k) = Σ_{s : l'_s = k} α_t(s) β_t(s) / (y^t_k p(l|x)).

The gradient of the loss is -q_t(k) for the log-probability ln y^t_k, and, through the softmax
y^t = softmax(u^t) of the unnormalised outputs u (the logits), it is Graves et al.'s eq. 16:

    ∂loss/∂u^t_k = y^t_k - q_t(k)

(``torch.nn.functional.ctc_loss`` returns y - q as the gradient of its log-probabilities input, the
logits' gradient, which log_softmax's backward passes on unchanged: compare it with ``grad_logits``.)

Here every product is a sum of logs and every sum a log-add (-inf for probability 0, never NaN): the
paper's rescaling of α and β (§4.1) is not needed. A labelling with no path of T frames has loss +inf
(as torch's ``zero_infinity=False``) and NaN gradients (as torch's). The empty labelling (L = 0) has
the single path of blanks. :func:`ctc_best_path` is the Viterbi algorithm over the same states (max
for the log-add): the most probable single path of the labelling, its forced alignment.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> logits = rng.normal(size=(6, 4))
    >>> log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    >>> result = ctc_forward_backward(log_probs, [1, 1, 3])
    >>> bool(result.loss > 0), result.log_alpha.shape, result.grad_logits.shape
    (True, (6, 7), (6, 4))
    >>> path, log_prob = ctc_best_path(log_probs, [1, 1, 3])
    >>> ctc_collapse(path), bool(log_prob <= -result.loss)
    ([1, 1, 3], True)
    >>> ctc_forward_backward(log_probs[:2], [1, 1, 3]).loss
    inf
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from seqlab.errors import SeqlabError

NEG_INF = -np.inf


class CTCForwardBackward(NamedTuple):
    """What :func:`ctc_forward_backward` computes for one utterance of T frames, K symbols and L labels."""

    loss: float  # -ln p(l|x) in nats; +inf when no path of T frames collapses to l
    log_alpha: np.ndarray  # (T, 2L + 1): ln α_t(s), eq. 5–8
    log_beta: np.ndarray  # (T, 2L + 1): ln β_t(s), eq. 10–12
    grad_log_probs: np.ndarray  # (T, K): ∂loss/∂ln y^t_k = -q_t(k); NaN when the loss is inf
    grad_logits: np.ndarray  # (T, K): ∂loss/∂u^t_k = y^t_k - q_t(k), eq. 16; NaN when the loss is inf


def ctc_collapse(path, blank: int = 0) -> list[int]:
    """B of Graves et al. (2006, §3.1): merge the runs of a symbol into one, then remove the blanks.

    Shape:
        path (T,) of symbol ids -> a labelling of at most T labels.
    """
    merged = [int(symbol) for t, symbol in enumerate(path) if t == 0 or symbol != path[t - 1]]
    return [symbol for symbol in merged if symbol != blank]


def ctc_extended_labels(labels, blank: int = 0) -> np.ndarray:
    """l' of §4.1: a blank before, between and after the labels.

    Shape:
        labels (L,) -> (2L + 1,), the labels at the odd positions.
    """
    extended = np.full(2 * len(labels) + 1, blank, dtype=np.int64)
    extended[1::2] = np.asarray(labels, dtype=np.int64)
    return extended


def ctc_min_frames(labels) -> int:
    """The fewest frames that a path of ``labels`` needs: one per label, one more blank per adjacent repeat."""
    labels = [int(label) for label in labels]
    return len(labels) + sum(labels[j] == labels[j - 1] for j in range(1, len(labels)))


def _check_utterance(log_probs: np.ndarray, labels, blank: int) -> np.ndarray:
    """One-line errors for log-probabilities of the wrong shape or labels out of range; returns the labels."""
    if log_probs.ndim != 2 or log_probs.shape[0] < 1 or log_probs.shape[1] < 2:
        raise SeqlabError(f"log_probs must be (T, K) with T >= 1 and K >= 2, got {log_probs.shape}")
    num_symbols = log_probs.shape[1]
    if not 0 <= blank < num_symbols:
        raise SeqlabError(f"blank must lie in [0, {num_symbols}), got {blank}")
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(labels) and (labels.min() < 0 or labels.max() >= num_symbols or (labels == blank).any()):
        raise SeqlabError(f"labels must lie in [0, {num_symbols}) and never be the blank {blank}, got {labels}")
    return labels


def _skips(extended: np.ndarray, blank: int) -> np.ndarray:
    """Where a path may skip the blank before state s: a label that differs from the label two states back."""
    allowed = np.zeros(len(extended), dtype=bool)
    allowed[2:] = (extended[2:] != blank) & (extended[2:] != extended[:-2])
    return allowed


def ctc_forward(log_probs: np.ndarray, labels, blank: int = 0) -> tuple[np.ndarray, float]:
    """ln α_t(s) and ln p(l|x) by eq. 5–8.

    Shape:
        log_probs (T, K), labels (L,) -> log_alpha (T, 2L + 1).

    Returns:
        ``(log_alpha, log_p)``: ``log_p`` is -inf when no path of T frames collapses to the labels.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    labels = _check_utterance(log_probs, labels, blank)
    extended = ctc_extended_labels(labels, blank)
    skips = _skips(extended, blank)
    steps, states = len(log_probs), len(extended)
    log_alpha = np.full((steps, states), NEG_INF)
    log_alpha[0, :2] = log_probs[0, extended[:2]]  # start in the first blank or on the first label
    for t in range(1, steps):
        previous = log_alpha[t - 1]
        total = previous.copy()  # stay in state s
        total[1:] = np.logaddexp(total[1:], previous[:-1])  # ᾱ: or come from s - 1
        total[skips] = np.logaddexp(total[skips], previous[np.flatnonzero(skips) - 2])  # or skip a blank
        log_alpha[t] = total + log_probs[t, extended]
    return log_alpha, float(np.logaddexp.reduce(log_alpha[-1, -2:]))  # end in the last label or the last blank


def ctc_backward(log_probs: np.ndarray, labels, blank: int = 0) -> np.ndarray:
    """ln β_t(s) by eq. 10–12: everything from state s at frame t to the end, y^t_{l'_s} included.

    Shape:
        log_probs (T, K), labels (L,) -> log_beta (T, 2L + 1).
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    labels = _check_utterance(log_probs, labels, blank)
    extended = ctc_extended_labels(labels, blank)
    skips = np.zeros(len(extended), dtype=bool)
    skips[:-2] = _skips(extended, blank)[2:]  # from s, skip the blank to s + 2
    steps, states = len(log_probs), len(extended)
    log_beta = np.full((steps, states), NEG_INF)
    log_beta[-1, -2:] = log_probs[-1, extended[-2:]]  # end in the last label or the last blank
    for t in range(steps - 2, -1, -1):
        following = log_beta[t + 1]
        total = following.copy()  # stay in state s
        total[:-1] = np.logaddexp(total[:-1], following[1:])  # β̄: or go on to s + 1
        total[skips] = np.logaddexp(total[skips], following[np.flatnonzero(skips) + 2])  # or skip a blank
        log_beta[t] = total + log_probs[t, extended]
    return log_beta


def ctc_forward_backward(log_probs: np.ndarray, labels, blank: int = 0) -> CTCForwardBackward:
    """The CTC loss -ln p(l|x), α, β and the loss's gradients (module docstring, eq. 5–16).

    Args:
        log_probs: ln y^t_k, each row a log-softmax (``grad_logits`` is the logits' gradient only then).
        labels: the labelling l, symbol ids other than ``blank``; repeats allowed, empty allowed.
        blank: the blank's symbol id.

    Shape:
        log_probs (T, K) float64, labels (L,).

    Returns:
        A :class:`CTCForwardBackward`.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    log_alpha, log_p = ctc_forward(log_probs, labels, blank)
    log_beta = ctc_backward(log_probs, labels, blank)
    extended = ctc_extended_labels(_check_utterance(log_probs, labels, blank), blank)
    if log_p == NEG_INF:
        nan = np.full(log_probs.shape, np.nan)
        return CTCForwardBackward(np.inf, log_alpha, log_beta, nan, nan.copy())
    # ln of the paths through (t, s) over p(l|x): α β / y, eq. 14's terms; -inf wherever α or β is
    reachable = (log_alpha > NEG_INF) & (log_beta > NEG_INF)
    log_share = np.full(log_alpha.shape, NEG_INF)
    rows, states = np.nonzero(reachable)
    log_share[reachable] = log_alpha[reachable] + log_beta[reachable] - log_probs[rows, extended[states]] - log_p
    posterior = np.zeros_like(log_probs)  # q_t(k): the states of each symbol added up
    for s, symbol in enumerate(extended):
        posterior[:, symbol] += np.exp(log_share[:, s])
    return CTCForwardBackward(-log_p, log_alpha, log_beta, -posterior, np.exp(log_probs) - posterior)


def ctc_best_path(log_probs: np.ndarray, labels, blank: int = 0) -> tuple[list[int], float]:
    """The most probable single path π* ∈ B⁻¹(l) by the Viterbi algorithm over the states of l': a forced alignment.

    Not the paper's "best path decoding" (§3.2), which is the unconstrained argmax of every frame. Ties
    go to staying in a state, then to the previous state; at the end to the final blank.

    Shape:
        log_probs (T, K), labels (L,) -> a path of T symbol ids.

    Returns:
        ``(path, log_prob)``, ln p(π*|x); ``([], -inf)`` when no path of T frames collapses to the labels.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    labels = _check_utterance(log_probs, labels, blank)
    extended = ctc_extended_labels(labels, blank)
    skips = _skips(extended, blank)
    steps, states = len(log_probs), len(extended)
    delta = np.full(states, NEG_INF)  # the best ln p of a path through frames 0..t that ends in state s
    delta[:2] = log_probs[0, extended[:2]]
    pointers = np.zeros((steps, states), dtype=np.int64)  # pointers[t, s]: the state at t - 1 on that path
    for t in range(1, steps):
        # [s, m]: come from s - m, for m = 0 (stay), 1 (next state), 2 (skip a blank)
        candidates = np.full((states, 3), NEG_INF)
        candidates[:, 0] = delta
        candidates[1:, 1] = delta[:-1]
        candidates[skips, 2] = delta[np.flatnonzero(skips) - 2]
        move = candidates.argmax(axis=1)  # the first of equal maxima
        pointers[t] = np.arange(states) - move
        delta = candidates[np.arange(states), move] + log_probs[t, extended]
    state = states - 1 if states == 1 or delta[-1] >= delta[-2] else states - 2
    if delta[state] == NEG_INF:
        return [], NEG_INF
    best, path = float(delta[state]), [state]
    for t in range(steps - 1, 0, -1):
        path.append(int(pointers[t, path[-1]]))
    return [int(extended[s]) for s in reversed(path)], best
